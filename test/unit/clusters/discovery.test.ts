// Discovery: the static list, and DNS re-resolution with a fake lookup — change detection, IPv6
// formatting, failures and empty answers keeping the last set, no overlapping lookups, stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsDiscovery, formatAddress, StaticDiscovery } from '../../../router/clusters/discovery/index.js';
import { settle, waitUntil } from './wait-until.js';

/** A lookup that answers from a script, one entry per call, then hangs (so the test decides when it ends). */
function scriptedLookup(script: (string[] | Error)[]): { lookup: (name: string) => Promise<string[]>; names: string[] } {
  const names: string[] = [];
  return {
    names,
    lookup: (name) => {
      names.push(name);
      const next = script.shift();
      if (next === undefined) return new Promise<string[]>(() => {});
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
}

const CONFIG = { name: 'triton.gpu.svc', port: 8001, refreshMs: 1 };

test('static discovery reports its list once, synchronously, at start', () => {
  const seen: (readonly string[])[] = [];
  const d = new StaticDiscovery(['10.0.0.2:8001', '10.0.0.1:8001', '10.0.0.2:8001']);
  d.start((a) => seen.push(a));
  assert.deepEqual(seen, [['10.0.0.2:8001', '10.0.0.1:8001']]);
  assert.ok(Object.isFrozen(seen[0]));
  d.stop();
});

test('DNS: reports the sorted set with the port, and again only when the set changes', async () => {
  const { lookup, names } = scriptedLookup([
    ['10.0.0.2', '10.0.0.1'],
    ['10.0.0.1', '10.0.0.2'],
    ['10.0.0.1', '10.0.0.2', '10.0.0.1'],
    ['10.0.0.3', '10.0.0.1', '10.0.0.2'],
    ['10.0.0.3', '10.0.0.2', '10.0.0.1'],
    ['10.0.0.3'],
  ]);
  const seen: (readonly string[])[] = [];
  const d = new DnsDiscovery(CONFIG, { lookup });
  d.start((a) => seen.push(a));
  await waitUntil(() => names.length === 7, 'the script to run out');
  d.stop();
  assert.deepEqual(seen, [
    ['10.0.0.1:8001', '10.0.0.2:8001'],
    ['10.0.0.1:8001', '10.0.0.2:8001', '10.0.0.3:8001'],
    ['10.0.0.3:8001'],
  ]);
  assert.deepEqual(new Set(names), new Set(['triton.gpu.svc']));
});

test('DNS: IPv6 addresses are bracketed', async () => {
  assert.equal(formatAddress('::1', 8001), '[::1]:8001');
  assert.equal(formatAddress('10.0.0.1', 8001), '10.0.0.1:8001');
  const { lookup, names } = scriptedLookup([['fd00::2', '10.0.0.1', '::1']]);
  const seen: (readonly string[])[] = [];
  const d = new DnsDiscovery({ ...CONFIG, port: 8000 }, { lookup });
  d.start((a) => seen.push(a));
  await waitUntil(() => names.length === 2, 'the first lookup');
  d.stop();
  assert.deepEqual(seen, [['10.0.0.1:8000', '[::1]:8000', '[fd00::2]:8000']]);
});

test('DNS: a failed or empty lookup keeps the last known set and is reported through onError', async () => {
  const boom = Object.assign(new Error('getaddrinfo EAI_AGAIN triton.gpu.svc'), { code: 'EAI_AGAIN' });
  const { lookup, names } = scriptedLookup([['10.0.0.1'], boom, [], ['10.0.0.1'], ['10.0.0.2']]);
  const seen: (readonly string[])[] = [];
  const errors: unknown[] = [];
  const d = new DnsDiscovery(CONFIG, { lookup, onError: (err) => errors.push(err) });
  d.start((a) => seen.push(a));
  await waitUntil(() => names.length === 6, 'the script to run out');
  d.stop();
  assert.deepEqual(seen, [['10.0.0.1:8001'], ['10.0.0.2:8001']], 'never emptied; the recovery with the same set is not a change');
  assert.equal(errors.length, 2);
  assert.equal(errors[0], boom);
  assert.match(String(errors[1]), /triton\.gpu\.svc resolved to no addresses/);
});

test('DNS: a failure before any answer reports nothing but the error, and the next answer is the first set', async () => {
  const { lookup, names } = scriptedLookup([new Error('ENOTFOUND'), ['10.0.0.7']]);
  const seen: (readonly string[])[] = [];
  const errors: unknown[] = [];
  const d = new DnsDiscovery(CONFIG, { lookup, onError: (err) => errors.push(err) });
  d.start((a) => seen.push(a));
  await waitUntil(() => names.length === 3, 'two lookups');
  d.stop();
  assert.deepEqual(seen, [['10.0.0.7:8001']]);
  assert.equal(errors.length, 1);
});

test('DNS: a lookup that hangs is reported after timeoutMs, the last set stays, and its late answer still counts', async () => {
  let release: ((ips: string[]) => void) | undefined;
  let calls = 0;
  const lookup = (): Promise<string[]> => {
    calls++;
    if (calls === 1) return Promise.resolve(['10.0.0.1']);
    if (calls === 2) return new Promise<string[]>((resolve) => (release = resolve));
    return new Promise<string[]>(() => {});
  };
  const seen: (readonly string[])[] = [];
  const errors: unknown[] = [];
  const d = new DnsDiscovery({ ...CONFIG, timeoutMs: 20 }, { lookup, onError: (err) => errors.push(err) });
  d.start((a) => seen.push(a));
  await waitUntil(() => errors.length === 1, 'the hung lookup reported');
  assert.match(String(errors[0]), /DNS lookup of triton\.gpu\.svc gave no answer within 20 ms/);
  await settle(40);
  assert.equal(calls, 2, 'no new lookup while the hung one is outstanding');
  assert.deepEqual(seen, [['10.0.0.1:8001']], 'the last set stays');
  release?.(['10.0.0.2']);
  await waitUntil(() => calls === 3, 'lookups resume once it settled');
  d.stop();
  assert.deepEqual(seen, [['10.0.0.1:8001'], ['10.0.0.2:8001']], 'the late answer applied');
});

test('DNS: until the first answer, a failure is retried within a second, not after refreshMs', async () => {
  const { lookup, names } = scriptedLookup([new Error('EAI_AGAIN'), ['10.0.0.9']]);
  const seen: (readonly string[])[] = [];
  const d = new DnsDiscovery({ ...CONFIG, refreshMs: 600_000 }, { lookup, onError: () => {} });
  d.start((a) => seen.push(a));
  await waitUntil(() => seen.length === 1, 'the second lookup within a second', 3_000);
  d.stop();
  assert.deepEqual(seen, [['10.0.0.9:8001']]);
  assert.equal(names.length, 2, 'and then refreshMs applies again');
});

test('DNS: lookups never overlap, however short refreshMs is', async () => {
  let active = 0;
  let maxActive = 0;
  let calls = 0;
  let release: (() => void) | undefined;
  const lookup = async (): Promise<string[]> => {
    calls++;
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise<void>((resolve) => (release = resolve));
    active--;
    return [`10.0.0.${calls}`];
  };
  const seen: (readonly string[])[] = [];
  const d = new DnsDiscovery(CONFIG, { lookup });
  d.start((a) => seen.push(a));
  await settle(30);
  assert.equal(calls, 1, 'the slow first lookup holds the next one back');
  release?.();
  await waitUntil(() => calls === 2, 'the next lookup after the first settled');
  release?.();
  await waitUntil(() => calls === 3, 'a third lookup');
  d.stop();
  release?.();
  assert.equal(maxActive, 1);
  assert.deepEqual(seen, [['10.0.0.1:8001'], ['10.0.0.2:8001']]);
});

test('DNS: no onChange and no lookup after stop, even for a lookup in flight at stop', async () => {
  let resolveLookup: ((ips: string[]) => void) | undefined;
  let calls = 0;
  const lookup = (): Promise<string[]> => {
    calls++;
    return new Promise((resolve) => (resolveLookup = resolve));
  };
  const seen: (readonly string[])[] = [];
  const errors: unknown[] = [];
  const d = new DnsDiscovery(CONFIG, { lookup, onError: (e) => errors.push(e) });
  d.start((a) => seen.push(a));
  assert.equal(calls, 1, 'resolves at start');
  d.stop();
  resolveLookup?.(['10.0.0.1']);
  await settle(30);
  assert.deepEqual(seen, []);
  assert.deepEqual(errors, []);
  assert.equal(calls, 1, 'the refresh timer is gone');

  // Stopped between lookups: the timer is cleared.
  const scripted = scriptedLookup([['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']]);
  const d2 = new DnsDiscovery({ ...CONFIG, refreshMs: 20 }, { lookup: scripted.lookup });
  const seen2: (readonly string[])[] = [];
  d2.start((a) => seen2.push(a));
  await waitUntil(() => seen2.length === 1, 'the first set');
  d2.stop();
  await settle(60);
  assert.equal(scripted.names.length, 1);
  assert.deepEqual(seen2, [['10.0.0.1:8001']]);
});

test('DNS: start twice is a programming error; start after stop begins afresh', async () => {
  const { lookup, names } = scriptedLookup([['10.0.0.1'], ['10.0.0.1']]);
  const seen: (readonly string[])[] = [];
  const d = new DnsDiscovery({ ...CONFIG, refreshMs: 60_000 }, { lookup });
  d.start((a) => seen.push(a));
  assert.throws(() => d.start(() => {}), /already started/);
  await waitUntil(() => seen.length === 1, 'the first set');
  d.stop();
  d.start((a) => seen.push(a));
  await waitUntil(() => seen.length === 2, 'the same set reported to the new run');
  d.stop();
  assert.equal(names.length, 2);
});

test('DNS: the default lookup goes through the system resolver (/etc/hosts: localhost)', async () => {
  const seen: (readonly string[])[] = [];
  const errors: unknown[] = [];
  const d = new DnsDiscovery({ name: 'localhost', port: 9, refreshMs: 60_000 }, { onError: (e) => errors.push(e) });
  d.start((a) => seen.push(a));
  await waitUntil(() => seen.length + errors.length > 0, 'localhost to resolve');
  d.stop();
  assert.deepEqual(errors, []);
  assert.ok(seen[0] !== undefined && seen[0].length > 0);
  for (const a of seen[0] ?? []) assert.ok(['127.0.0.1:9', '[::1]:9'].includes(a), a);
});

test('DNS: refreshMs must be a positive integer', () => {
  assert.throws(() => new DnsDiscovery({ ...CONFIG, refreshMs: 0 }), RangeError);
});

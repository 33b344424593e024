// Pickers, table-driven over plain candidate lists with seeded randomness: P2C, round-robin,
// consistent hashing with bounded load, prefix affinity, and the registry that builds them from config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RoutingFacts } from '../../../router/core/call-context.js';
import {
  boundedLoadCapacity,
  ConsistentHashPicker,
  createPicker,
  LeastRequestPicker,
  PrefixAffinityPicker,
  RoundRobinPicker,
  type EndpointLoad,
  type Picker,
} from '../../../router/clusters/scheduler/index.js';
import { HashRing } from '../../../router/clusters/scheduler/hash-ring.js';
import { hashString, mix32 } from '../../../router/core/hash-string.js';
import { seededRandom } from '../../helpers/seeded-random.js';

/** Plain FNV-1a 32 over bytes, to check hashString against. */
function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

const ep = (address: string, inFlight = 0): EndpointLoad => ({ endpoint: { address, cluster: 'c' }, inFlight });
const eps = (...loads: number[]): EndpointLoad[] => loads.map((load, i) => ep(`10.0.0.${i + 1}:8001`, load));
const addr = (c: EndpointLoad | undefined): string => c?.endpoint.address ?? 'none';
const facts = (f: Partial<RoutingFacts> = {}): RoutingFacts => ({ headers: {}, ...f });
const session = (id: string): RoutingFacts => facts({ headers: { 'x-session-id': id } });

function tally(picker: Picker, candidates: readonly EndpointLoad[], n: number, f?: (i: number) => RoutingFacts | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const a = addr(picker.pick(candidates, f?.(i)));
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  return counts;
}

test('every picker returns undefined for no candidates and the only candidate for one', () => {
  const pickers: Picker[] = [
    new LeastRequestPicker({ choices: 2 }, seededRandom(1)),
    new RoundRobinPicker(seededRandom(1)),
    new ConsistentHashPicker({ key: { header: 'x-session-id' }, loadFactor: 1.25 }, seededRandom(1)),
    new PrefixAffinityPicker({ prefixChars: 16, loadFactor: 1.25 }, seededRandom(1)),
  ];
  const only = ep('10.0.0.9:8001', 1000);
  for (const p of pickers) {
    assert.equal(p.pick([], facts({ promptPrefix: 'hello', headers: { 'x-session-id': 's' } })), undefined);
    assert.equal(p.pick([only], facts({ promptPrefix: 'hello', headers: { 'x-session-id': 's' } })), only);
  }
});

test('createPicker builds the picker each config type names', () => {
  const r = seededRandom(2);
  assert.ok(createPicker({ type: 'least-request', choices: 2 }, r) instanceof LeastRequestPicker);
  assert.ok(createPicker({ type: 'round-robin' }, r) instanceof RoundRobinPicker);
  assert.ok(createPicker({ type: 'consistent-hash', key: { openaiUser: true }, loadFactor: 1.25 }, r) instanceof ConsistentHashPicker);
  assert.ok(createPicker({ type: 'prefix-affinity', prefixChars: 256, loadFactor: 1.25 }, r) instanceof PrefixAffinityPicker);
});

test('least-request (P2C): a heavily loaded endpoint is never chosen while two lighter ones exist, and lighter wins more', () => {
  const picker = new LeastRequestPicker({ choices: 2 }, seededRandom(3));
  const candidates = eps(0, 1, 2, 3, 50);
  const counts = tally(picker, candidates, 10_000);
  assert.equal(counts.get('10.0.0.5:8001') ?? 0, 0, 'the loaded endpoint loses every pair it is sampled into');
  const shares = [1, 2, 3, 4].map((i) => counts.get(`10.0.0.${i}:8001`) ?? 0);
  // Exact P2C shares over 5 candidates sorted by load: 4/10, 3/10, 2/10, 1/10.
  assert.deepEqual(shares.map((s) => Math.round(s / 1000)), [4, 3, 2, 1], `shares ${shares.join(',')}`);
});

test('least-request: equal loads share evenly (random ties), and with ≤ choices candidates the least of all wins', () => {
  const even = tally(new LeastRequestPicker({ choices: 2 }, seededRandom(4)), eps(5, 5, 5, 5), 8_000);
  for (const [, n] of even) assert.ok(n > 1_800 && n < 2_200, `uneven: ${[...even.values()].join(',')}`);
  assert.equal(even.size, 4);

  const picker = new LeastRequestPicker({ choices: 2 }, seededRandom(5));
  for (let i = 0; i < 100; i++) assert.equal(addr(picker.pick(eps(3, 1))), '10.0.0.2:8001');
  const three = new LeastRequestPicker({ choices: 3 }, seededRandom(6));
  for (let i = 0; i < 100; i++) assert.equal(addr(three.pick(eps(4, 2, 1))), '10.0.0.3:8001');
  const ties = tally(new LeastRequestPicker({ choices: 2 }, seededRandom(7)), eps(1, 1), 2_000);
  for (const [, n] of ties) assert.ok(n > 900 && n < 1_100, `ties not random: ${[...ties.values()].join(',')}`);
});

test('least-request: choices = 3 samples three distinct candidates (the third-least-loaded can never win)', () => {
  const counts = tally(new LeastRequestPicker({ choices: 3 }, seededRandom(8)), eps(0, 1, 2, 3, 4, 5), 6_000);
  for (const a of ['10.0.0.5:8001', '10.0.0.6:8001']) assert.equal(counts.get(a) ?? 0, 0, `${a} lost to two lighter ones in any sample of three`);
  // With distinct samples the lightest wins whenever sampled: P = 1 - C(5,3)/C(6,3) = 1/2.
  assert.equal(Math.round((counts.get('10.0.0.1:8001') ?? 0) / 600), 5);
});

test('least-request: P2C keeps a simulated fleet balanced, far tighter than a random pick', () => {
  // 8 endpoints hold 80 requests in steady state: each step one request arrives (picked) and, once
  // the fleet is full, one request chosen uniformly among those in flight completes.
  const worstLoad = (pick: (c: EndpointLoad[]) => EndpointLoad | undefined, random: () => number): number => {
    const loads = Array<number>(8).fill(0);
    let worst = 0;
    for (let i = 0; i < 20_000; i++) {
      const picked = pick(loads.map((n, j) => ep(`10.0.0.${j + 1}:8001`, n)));
      const at = Number(picked?.endpoint.address.split('.')[3]?.split(':')[0]) - 1;
      loads[at] = (loads[at] ?? 0) + 1;
      let total = loads.reduce((a, b) => a + b, 0);
      if (total > 80) {
        let r = Math.floor(random() * total);
        const done = loads.findIndex((n) => (r -= n) < 0);
        loads[done] = (loads[done] ?? 0) - 1;
        total--;
      }
      if (i > 1_000) worst = Math.max(worst, ...loads);
    }
    return worst;
  };
  const random = seededRandom(9);
  const p2c = new LeastRequestPicker({ choices: 2 }, random);
  const p2cWorst = worstLoad((c) => p2c.pick(c), random);
  const randomWorst = worstLoad((c) => c[Math.floor(random() * c.length)], random);
  assert.ok(p2cWorst <= 15, `P2C let one endpoint reach ${p2cWorst} in flight (average 10)`);
  assert.ok(randomWorst >= p2cWorst + 6, `random ${randomWorst} vs P2C ${p2cWorst}`);
});

test('round-robin: strict rotation in address order, equal shares over 3', () => {
  const picker = new RoundRobinPicker(seededRandom(10));
  const candidates = [ep('10.0.0.3:8001'), ep('10.0.0.1:8001'), ep('10.0.0.2:8001')];
  const seq = Array.from({ length: 300 }, () => addr(picker.pick(candidates)));
  const order = ['10.0.0.1:8001', '10.0.0.2:8001', '10.0.0.3:8001'];
  const start = order.indexOf(seq[0] ?? '');
  seq.forEach((a, i) => assert.equal(a, order[(start + i) % 3], `pick ${i}`));
  const counts = tally(picker, candidates, 300);
  assert.deepEqual([...counts.values()], [100, 100, 100]);
  // The load is ignored: round-robin is for when in-flight counts mean nothing (e.g. uniform short calls).
  assert.equal(new Set(Array.from({ length: 3 }, () => addr(picker.pick([ep('a:1', 9), ep('b:1', 0), ep('c:1', 0)])))).size, 3);
});

test('round-robin: a changing candidate set neither resets nor skews the rotation', () => {
  const picker = new RoundRobinPicker(() => 0); // starts at the first candidate given
  const [a, b, c, d] = [ep('a:1'), ep('b:1'), ep('c:1'), ep('d:1')];
  const pick = (...cs: EndpointLoad[]): string => addr(picker.pick(cs));
  assert.equal(pick(a, b, c), 'a:1');
  assert.equal(pick(a, b, c), 'b:1');
  assert.equal(pick(a, c), 'c:1', 'b was skipped (tried or ejected): the rotation continues after it, not from the start');
  assert.equal(pick(a, b, c), 'a:1');
  assert.equal(pick(c, a, d, b), 'b:1', 'd joined: order of the input does not matter');
  assert.equal(pick(c, a, d, b), 'c:1');
  assert.equal(pick(a, b, d), 'd:1', 'c left');
  assert.equal(pick(a, b, d), 'a:1');
  assert.equal(pick(b, d), 'b:1', 'the last chosen (a) left: the next one after it still comes next');

  // Fairness while one endpoint flaps in and out every other pick.
  const counts = new Map<string, number>();
  for (let i = 0; i < 3_000; i++) {
    const picked = pick(...(i % 2 === 0 ? [a, b, c] : [a, c]));
    counts.set(picked, (counts.get(picked) ?? 0) + 1);
  }
  const ac = [counts.get('a:1') ?? 0, counts.get('c:1') ?? 0];
  assert.ok(Math.abs((ac[0] ?? 0) - (ac[1] ?? 0)) <= 1, `a and c unequal: ${ac.join(',')}`);
});

test('hash ring: evenly spread with 100 virtual nodes, deterministic, and the hash avalanches', () => {
  const addresses = Array.from({ length: 5 }, (_, i) => `10.0.0.${i + 1}:8001`);
  const ring = new HashRing(addresses);
  assert.equal(ring.pointCount, 500);
  assert.deepEqual(new HashRing([...addresses].reverse()).addresses, ring.addresses);
  const owned = new Map<number, number>();
  for (let i = 0; i < 50_000; i++) {
    const owner = ring.ownerOf(ring.firstPointAt(hashString(`key-${i}`)));
    owned.set(owner, (owned.get(owner) ?? 0) + 1);
  }
  for (const [, n] of owned) assert.ok(n > 7_000 && n < 13_000, `uneven ring: ${[...owned.values()].join(',')}`);
  assert.notEqual(hashString('10.0.0.5:8001') >>> 24, hashString('10.0.0.6:8001') >>> 24);
  assert.equal(hashString(''), hashString(''));
  assert.notEqual(hashString('é'), hashString('\u00e9\u0000'));
  assert.notEqual(hashString('\u0100'), hashString('\u0000\u0001'), 'code units are encoded, not split into bytes');
  // FNV-1a 32 reference vectors, seen through the (bijective) finaliser.
  assert.equal(hashString(''), mix32(0x811c9dc5));
  assert.equal(hashString('a'), mix32(0xe40c292c));
  assert.equal(hashString('foobar'), mix32(0xbf9cf968));
  assert.equal(hashString('é'), mix32(fnv1a32(Buffer.from('é', 'utf8'))));
});

test('bounded-load capacity = ceil(loadFactor × (total + 1) / candidates)', () => {
  assert.equal(boundedLoadCapacity(eps(0, 0, 0, 0), 1.25), 1);
  assert.equal(boundedLoadCapacity(eps(3, 2, 1, 1), 1.25), 3); // 1.25 × 8 / 4 = 2.5
  assert.equal(boundedLoadCapacity(eps(9, ...Array<number>(10).fill(0)), 1.1), 1, '1.1 × 10 / 11 is 1, not 2 by float noise');
  assert.equal(boundedLoadCapacity(eps(9), 1), 10);
});

test('consistent-hash: the same key sticks to one endpoint across 1,000 picks; keys spread across endpoints', () => {
  const picker = new ConsistentHashPicker({ key: { header: 'x-session-id' }, loadFactor: 1.25 }, seededRandom(11));
  const candidates = eps(0, 0, 0);
  for (const key of ['alice', 'bob', 'carol']) {
    const counts = tally(picker, candidates, 1_000, () => session(key));
    assert.equal(counts.size, 1, `${key} moved: ${[...counts.keys()].join(',')}`);
  }
  const spread = tally(picker, candidates, 3_000, (i) => session(`s-${i}`));
  for (const [, n] of spread) assert.ok(n > 700 && n < 1_300, `keys unevenly spread: ${[...spread.values()].join(',')}`);
  assert.equal(picker.ringBuilds, 1, 'picks over an unchanged candidate set never rebuild the ring');
});

test('consistent-hash: removing an endpoint moves only the keys it owned; adding one moves only keys to it', () => {
  const picker = new ConsistentHashPicker({ key: { header: 'x-session-id' }, loadFactor: 1.25 }, seededRandom(12));
  const all = eps(0, 0, 0, 0, 0);
  const keys = Array.from({ length: 2_000 }, (_, i) => `k${i}`);
  const before = new Map(keys.map((k) => [k, addr(picker.pick(all, session(k)))]));
  const removed = '10.0.0.3:8001';
  const fewer = all.filter((c) => c.endpoint.address !== removed);
  let moved = 0;
  for (const k of keys) {
    const now = addr(picker.pick(fewer, session(k)));
    if (before.get(k) === removed) {
      assert.notEqual(now, removed);
      moved++;
    } else {
      assert.equal(now, before.get(k), `${k} moved though its endpoint stayed`);
    }
  }
  assert.ok(moved > 200, `the removed endpoint owned a fair share (${moved})`);
  // A fresh picker that only ever saw the smaller set agrees: reusing the big ring is invisible.
  const fresh = new ConsistentHashPicker({ key: { header: 'x-session-id' }, loadFactor: 1.25 }, seededRandom(12));
  for (const k of keys) assert.equal(addr(fresh.pick(fewer, session(k))), addr(picker.pick(fewer, session(k))));
  assert.equal(picker.ringBuilds, 1, 'a candidate subset (a retry, an ejection) walks the existing ring');

  const more = [...all, ep('10.0.0.9:8001')];
  for (const k of keys) {
    const now = addr(picker.pick(more, session(k)));
    if (now !== '10.0.0.9:8001') assert.equal(now, before.get(k), `${k} moved between old endpoints when one was added`);
  }
  assert.equal(picker.ringBuilds, 2, 'a new address rebuilds the ring');
});

test('consistent-hash: bounded load spills a key to the next endpoint on the ring while its own is over capacity', () => {
  const picker = new ConsistentHashPicker({ key: { header: 'x-session-id' }, loadFactor: 1.25 }, seededRandom(13));
  const idle = eps(0, 0, 0, 0);
  const home = addr(picker.pick(idle, session('hot')));
  const next = addr(picker.pick(idle.filter((c) => c.endpoint.address !== home), session('hot')));
  // home carries 6 of 6: capacity = ceil(1.25 × 7 / 4) = 3.
  const loaded = idle.map((c) => (c.endpoint.address === home ? ep(home, 6) : c));
  assert.equal(boundedLoadCapacity(loaded, 1.25), 3);
  assert.equal(addr(picker.pick(loaded, session('hot'))), next, 'spills clockwise, so the spill target is itself stable');
  // Under the bound the key stays home: all at 2 → capacity ceil(1.25 × 9 / 4) = 3.
  const under = idle.map((c) => (c.endpoint.address === home ? ep(home, 2) : ep(c.endpoint.address, 2)));
  assert.equal(boundedLoadCapacity(under, 1.25), 3);
  assert.equal(addr(picker.pick(under, session('hot'))), home);
  // When the next is over capacity too, the walk goes on to the first one under it.
  const third = addr(picker.pick(idle.filter((c) => c.endpoint.address !== home && c.endpoint.address !== next), session('hot')));
  const twoHot = idle.map((c) => (c.endpoint.address === home || c.endpoint.address === next ? ep(c.endpoint.address, 4) : c));
  assert.equal(boundedLoadCapacity(twoHot, 1.25), 3);
  assert.equal(addr(picker.pick(twoHot, session('hot'))), third);
});

test('consistent-hash: keys from the OpenAI user or the first header value; no key falls back to P2C', () => {
  const byUser = new ConsistentHashPicker({ key: { openaiUser: true }, loadFactor: 2 }, seededRandom(14));
  const candidates = eps(0, 0, 0, 0, 0, 0);
  assert.equal(tally(byUser, candidates, 500, () => facts({ user: 'u-42' })).size, 1);
  const byHeader = new ConsistentHashPicker({ key: { header: 'X-Session-Id' }, loadFactor: 2 }, seededRandom(15));
  const first = addr(byHeader.pick(candidates, session('one')));
  assert.equal(addr(byHeader.pick(candidates, facts({ headers: { 'x-session-id': ['one', 'two'] } }))), first);
  // No key (missing, empty, no facts): balanced like least-request, so the loaded endpoint is avoided.
  const uneven = eps(9, 0, 9, 9, 9, 9);
  for (const f of [undefined, facts(), session(''), facts({ user: 'x' })]) {
    const counts = tally(byHeader, uneven, 300, () => f);
    // P2C: the idle endpoint wins whenever sampled, 1 - C(5,2)/C(6,2) = 1/3 of picks; uniform would be 1/6.
    assert.ok((counts.get('10.0.0.2:8001') ?? 0) > 75, `P2C prefers the idle endpoint: ${[...counts].join(' ')}`);
    assert.ok(counts.size > 1, 'and still spreads: it is not sticky');
  }
});

const SYSTEM = 'You are a meticulous assistant for the Switchyard test-suite. '.repeat(8); // > 256 chars

test('prefix-affinity: requests sharing a prompt prefix concentrate on one endpoint; different prefixes spread', () => {
  const picker = new PrefixAffinityPicker({ prefixChars: 256, loadFactor: 1.25 }, seededRandom(16));
  const candidates = eps(0, 0, 0, 0);
  const shared = tally(picker, candidates, 1_000, (i) => facts({ promptPrefix: `${SYSTEM}user question ${i}` }));
  assert.equal(shared.size, 1, 'differences after prefixChars do not matter');
  const spread = tally(picker, candidates, 2_000, (i) => facts({ promptPrefix: `tenant ${i}: ${SYSTEM}` }));
  assert.equal(spread.size, 4);
  for (const [, n] of spread) assert.ok(n > 300, `prefixes unevenly spread: ${[...spread.values()].join(',')}`);
  assert.equal(picker.ringBuilds, 1);
});

test('prefix-affinity: a loaded preferred endpoint sends the request to the least busy of the others, not the ring neighbour', () => {
  const picker = new PrefixAffinityPicker({ prefixChars: 256, loadFactor: 1.25 }, seededRandom(17));
  const idle = eps(0, 0, 0);
  const f = facts({ promptPrefix: SYSTEM });
  const home = addr(picker.pick(idle, f));
  const neighbour = addr(picker.pick(idle.filter((c) => c.endpoint.address !== home), f));
  const other = idle.map((c) => c.endpoint.address).find((a) => a !== home && a !== neighbour) ?? '';
  // home 6, neighbour 2, other 1: capacity = ceil(1.25 × 10 / 3) = 5, home is over it.
  const loaded = [ep(home, 6), ep(neighbour, 2), ep(other, 1)];
  assert.equal(boundedLoadCapacity(loaded, 1.25), 5);
  for (let i = 0; i < 50; i++) assert.equal(addr(picker.pick(loaded, f)), other);
  // Below capacity the warm cache wins even over an idle endpoint.
  const warm = [ep(home, 1), ep(neighbour, 1), ep(other, 0)];
  assert.equal(boundedLoadCapacity(warm, 1.25), 2);
  assert.equal(addr(picker.pick(warm, f)), home);
  const full = [ep(home, 2), ep(neighbour, 0), ep(other, 0)];
  assert.equal(boundedLoadCapacity(full, 1.25), 2);
  assert.notEqual(addr(picker.pick(full, f)), home, 'at capacity (2 ≥ 2) it spills');
});

test('prefix-affinity: no prompt falls back to least-request', () => {
  const picker = new PrefixAffinityPicker({ prefixChars: 64, loadFactor: 1.25 }, seededRandom(18));
  const uneven = eps(7, 7, 0, 7);
  for (const f of [undefined, facts(), facts({ promptPrefix: '' })]) {
    const counts = tally(picker, uneven, 300, () => f);
    // Sampled in 1 - C(3,2)/C(4,2) = 1/2 of picks; uniform would be 1/4.
    assert.ok((counts.get('10.0.0.3:8001') ?? 0) > 110, `P2C prefers the idle endpoint: ${[...counts].join(' ')}`);
  }
});

test('picker constructors reject nonsense a hand-built config could carry', () => {
  assert.throws(() => new LeastRequestPicker({ choices: 0 }), RangeError);
  assert.throws(() => new ConsistentHashPicker({ key: { openaiUser: true }, loadFactor: 0.5 }), RangeError);
  assert.throws(() => new PrefixAffinityPicker({ prefixChars: 0, loadFactor: 1.25 }), RangeError);
  assert.throws(() => new HashRing(['a:1'], 0), RangeError);
});

test('consistent-hash: the answer depends only on the candidates, never on the ring the picker happens to hold', () => {
  const random = seededRandom(19);
  const pool = Array.from({ length: 24 }, (_, i) => ep(`10.1.0.${i + 1}:8001`));
  const seasoned = new ConsistentHashPicker({ key: { openaiUser: true }, loadFactor: 1.25 }, seededRandom(20));
  for (let round = 0; round < 60; round++) {
    const subset = pool.filter(() => random() < 0.6);
    const fresh = new ConsistentHashPicker({ key: { openaiUser: true }, loadFactor: 1.25 }, seededRandom(20));
    for (let k = 0; k < 20; k++) {
      const f = facts({ user: `user-${round}-${k}` });
      assert.equal(addr(seasoned.pick(subset, f)), addr(fresh.pick(subset, f)), `round ${round}, ${subset.length} candidates`);
    }
  }
  assert.ok(seasoned.ringBuilds < 30, `rings are reused across subsets (${seasoned.ringBuilds} builds)`);
  // Once most of the ring is gone for good, it is rebuilt to keep walks short.
  const before = seasoned.ringBuilds;
  seasoned.pick(pool.slice(0, 3), facts({ user: 'u' }));
  assert.equal(seasoned.ringBuilds, before + 1);
});

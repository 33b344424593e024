// The outage policy over a primary that can be switched off: failOpen serves from the local store
// (scaled by localLimitShare), failClosed rejects with SWY_ERR_ADMIT_STATE_UNAVAILABLE; settles and
// releases follow the entry; recovery sends takes back to the primary. The real Redis version of
// these is test/integration/redis-state-store.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SwitchyardError } from '../../../router/core/errors.js';
import { createStateStore } from '../../../router/state/create-state-store.js';
import { MemoryStateStore } from '../../../router/state/memory-state-store.js';
import { ResilientStateStore } from '../../../router/state/resilient-state-store.js';
import type { StateLogger } from '../../../router/state/state-logger.js';
import type { LeaseTake, StateStatus, StateStore, WindowTake } from '../../../router/state/state-store.js';
import { StateUnavailableError } from '../../../router/state/state-unavailable-error.js';

/** A memory store standing in for Redis, with a switch. */
class SwitchablePrimary implements StateStore {
  readonly store = new MemoryStateStore();
  down = false;
  bug = false;

  get status(): StateStatus {
    return this.down ? 'disconnected' : 'connected';
  }

  #check(): void {
    if (this.bug) throw new TypeError('a bug');
    if (this.down) throw new StateUnavailableError('down');
  }

  async take(key: string, id: string, cost: number, limit: number, windowMs: number): Promise<WindowTake> {
    this.#check();
    return this.store.take(key, id, cost, limit, windowMs);
  }

  async settle(key: string, id: string, cost: number, windowMs: number): Promise<void> {
    this.#check();
    return this.store.settle(key, id, cost, windowMs);
  }

  async acquire(key: string, id: string, limit: number, ttlMs: number): Promise<LeaseTake> {
    this.#check();
    return this.store.acquire(key, id, limit, ttlMs);
  }

  async release(key: string, id: string): Promise<void> {
    this.#check();
    return this.store.release(key, id);
  }

  async close(): Promise<void> {}
}

function recordingLogger(): StateLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (_f, m) => lines.push(`warn ${m}`), info: (_f, m) => lines.push(`info ${m}`) };
}

async function takeMany(store: StateStore, key: string, n: number, limit: number, prefix = 'r'): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < n; i++) if ((await store.take(key, `${prefix}${i}`, 1, limit, 60_000)).allowed) allowed++;
  return allowed;
}

describe('failOpen (default)', () => {
  test('takes and acquires fall back to local memory and still enforce the limit there', async () => {
    const primary = new SwitchablePrimary();
    const store = new ResilientStateStore(primary);
    assert.equal(await takeMany(store, 'k', 10, 60), 10);
    primary.down = true;
    assert.equal(store.up, false);
    assert.equal(store.status, 'disconnected');
    assert.equal(await takeMany(store, 'k', 100, 60, 'o'), 60); // the local store knows nothing of the 10
    assert.equal(store.fallbackTotal('take'), 100);
    assert.equal((await store.acquire('c', 'a', 1, 1_000)).allowed, true);
    assert.equal((await store.acquire('c', 'b', 1, 1_000)).allowed, false);
    assert.equal(store.fallbackTotal('acquire'), 2);
  });

  test('localLimitShare scales the local limits (never below 1)', async () => {
    const primary = new SwitchablePrimary();
    primary.down = true;
    const store = new ResilientStateStore(primary, { localLimitShare: 0.25 });
    const take = await store.take('k', 'a', 1, 60, 60_000);
    assert.equal(take.limit, 15);
    assert.equal(await takeMany(store, 'k', 100, 60, 'o'), 14);
    assert.equal(await takeMany(store, 'small', 5, 2), 1);
    assert.equal((await store.acquire('c', 'a', 3, 1_000)).limit, 1);
    // over the local share but within the real limit: retry in a window, not never
    assert.equal((await store.take('t', 'a', 20, 60, 60_000)).retryAfterMs, 60_000);
    assert.equal((await store.take('t', 'b', 61, 60, 60_000)).retryAfterMs, Infinity);
  });

  test('settles and releases go to the store holding the entry, also after the primary is back', async () => {
    const primary = new SwitchablePrimary();
    const store = new ResilientStateStore(primary);
    await store.take('k', 'global', 30, 60, 60_000);
    await store.acquire('c', 'global', 2, 60_000);
    primary.down = true;
    await store.take('k', 'local', 30, 60, 60_000);
    await store.acquire('c', 'local', 2, 60_000);
    primary.down = false;
    await store.settle('k', 'local', 5, 60_000);
    await store.release('c', 'local');
    assert.equal(store.fallbackTotal('settle'), 1);
    assert.equal(store.fallbackTotal('release'), 1);
    await store.settle('k', 'global', 10, 60_000);
    await store.release('c', 'global');
    assert.equal(store.fallbackTotal('settle'), 1);
    assert.equal((await primary.store.take('k', 'probe', 50, 60, 60_000)).allowed, true); // 10 + 50
    assert.equal((await primary.store.acquire('c', 'p', 1, 60_000)).current, 1);
  });

  test('a settle or release the primary cannot take is dropped, not rejected', async () => {
    const primary = new SwitchablePrimary();
    const store = new ResilientStateStore(primary, { outage: 'failClosed' });
    await store.take('k', 'a', 30, 60, 60_000);
    await store.acquire('c', 'a', 1, 60_000);
    primary.down = true;
    await store.settle('k', 'a', 5, 60_000);
    await store.release('c', 'a');
    assert.equal(store.fallbackTotal('settle'), 1);
    assert.equal(store.fallbackTotal('release'), 1);
  });

  test('once the primary answers, takes are global again; the outage and the recovery are logged once each', async () => {
    const primary = new SwitchablePrimary();
    const logger = recordingLogger();
    const store = new ResilientStateStore(primary, { logger });
    await takeMany(store, 'k', 5, 60);
    primary.down = true;
    await takeMany(store, 'k', 20, 60, 'o');
    primary.down = false;
    await takeMany(store, 'k', 20, 60, 'g');
    assert.equal((await primary.store.take('k', 'probe', 1, 60, 60_000)).remaining, 60 - 26);
    assert.equal(logger.lines.length, 2, logger.lines.join('\n'));
    assert.match(logger.lines[0] ?? '', /^warn .*per replica/);
    assert.match(logger.lines[1] ?? '', /^info /);
  });

  test('anything but StateUnavailableError is a bug and propagates', async () => {
    const primary = new SwitchablePrimary();
    primary.bug = true;
    const store = new ResilientStateStore(primary);
    await assert.rejects(store.take('k', 'a', 1, 60, 60_000), TypeError);
    await assert.rejects(store.settle('k', 'a', 1, 60_000), TypeError);
    await assert.rejects(store.acquire('k', 'a', 1, 60_000), TypeError);
    await assert.rejects(store.release('k', 'a'), TypeError);
    assert.equal(store.fallbackTotal('take'), 0);
  });
});

describe('failClosed', () => {
  test('takes and acquires reject with SWY_ERR_ADMIT_STATE_UNAVAILABLE: 503, Retry-After 1', async () => {
    const primary = new SwitchablePrimary();
    primary.down = true;
    const store = new ResilientStateStore(primary, { outage: 'failClosed' });
    for (const op of [store.take('k', 'a', 1, 60, 60_000), store.acquire('k', 'a', 1, 60_000)]) {
      await assert.rejects(op, (err: unknown) => {
        assert.ok(err instanceof SwitchyardError);
        assert.equal(err.code, 'SWY_ERR_ADMIT_STATE_UNAVAILABLE');
        assert.equal(err.httpStatus, 503);
        assert.equal(err.retryAfterS, 1);
        assert.ok(err.cause instanceof StateUnavailableError);
        return true;
      });
    }
    assert.equal(store.fallbackTotal('take'), 1);
    primary.down = false;
    assert.equal((await store.take('k', 'a', 1, 60, 60_000)).allowed, true);
  });
});

describe('options and factory', () => {
  test('localLimitShare must be in (0, 1]', () => {
    for (const share of [0, -0.5, 1.5, Number.NaN]) {
      assert.throws(() => new ResilientStateStore(new SwitchablePrimary(), { localLimitShare: share }), RangeError, String(share));
    }
  });

  test('createStateStore memory: status memory, always up, no fallbacks', async () => {
    const store = createStateStore({ kind: 'memory' }, recordingLogger());
    assert.equal(store.kind, 'memory');
    assert.equal(store.status, 'memory');
    assert.equal(store.up, true);
    assert.equal(await store.ready(0), true);
    assert.equal((await store.take('k', 'a', 1, 1, 1_000)).allowed, true);
    assert.equal(store.fallbackTotal('take'), 0);
    await store.close();
  });
});

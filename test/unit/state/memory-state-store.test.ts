// The sliding-window log and leases in memory, on a fake clock: exact limits, retry-after and reset
// arithmetic, settling, expiry at the window edge, leases, and the memory bound.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStateStore } from '../../../router/state/memory-state-store.js';

function clocked(start = 1_000): { store: MemoryStateStore; advance(ms: number): void } {
  let now = start;
  return { store: new MemoryStateStore({ now: () => now }), advance: (ms) => (now += ms) };
}

describe('sliding window', () => {
  test('admits exactly the limit, counting remaining down to 0', async () => {
    const { store, advance } = clocked();
    for (let i = 0; i < 60; i++) {
      const take = await store.take('k', `r${i}`, 1, 60, 60_000);
      assert.equal(take.allowed, true, `take ${i}`);
      assert.equal(take.remaining, 59 - i);
      assert.equal(take.retryAfterMs, 0);
      assert.equal(take.resetMs, 60_000);
      advance(10);
    }
    const denied = await store.take('k', 'r60', 1, 60, 60_000);
    assert.deepEqual(denied, { allowed: false, limit: 60, remaining: 0, retryAfterMs: 60_000 - 600, resetMs: 60_000 - 10 });
  });

  test('retryAfter walks the oldest entries until enough cost expires; reset is the newest entry leaving', async () => {
    const { store, advance } = clocked();
    assert.equal((await store.take('k', 'a', 10, 60, 1_000)).allowed, true); // t=0
    advance(100);
    assert.equal((await store.take('k', 'b', 20, 60, 1_000)).allowed, true); // t=100
    advance(100);
    assert.equal((await store.take('k', 'c', 30, 60, 1_000)).remaining, 0); // t=200
    advance(100); // t=300: 25 more needs a (10) and b (20) gone: b leaves at 1100
    assert.deepEqual(await store.take('k', 'd', 25, 60, 1_000), { allowed: false, limit: 60, remaining: 0, retryAfterMs: 800, resetMs: 900 });
    assert.deepEqual(await store.take('k', 'e', 5, 60, 1_000), { allowed: false, limit: 60, remaining: 0, retryAfterMs: 700, resetMs: 900 });
    advance(799); // t=1099: b is still in
    assert.equal((await store.take('k', 'd', 25, 60, 1_000)).retryAfterMs, 1);
    advance(1); // t=1100: b is out, exactly at its time + window
    assert.deepEqual(await store.take('k', 'd', 25, 60, 1_000), { allowed: true, limit: 60, remaining: 5, retryAfterMs: 0, resetMs: 1_000 });
  });

  test('a cost above the limit never fits: Infinity, on an empty key too', async () => {
    const { store } = clocked();
    assert.deepEqual(await store.take('k', 'big', 61, 60, 1_000), { allowed: false, limit: 60, remaining: 60, retryAfterMs: Infinity, resetMs: 0 });
    await store.take('k', 'a', 10, 60, 1_000);
    assert.equal((await store.take('k', 'big', 61, 60, 1_000)).retryAfterMs, Infinity);
    assert.equal((await store.take('k', 'fits', 50, 60, 1_000)).allowed, true);
  });

  test('a denied take leaves nothing behind', async () => {
    const { store } = clocked();
    await store.take('k', 'a', 60, 60, 1_000);
    for (let i = 0; i < 100; i++) assert.equal((await store.take('k', `x${i}`, 1, 60, 1_000)).allowed, false);
    assert.equal(store.holdsEntry('k', 'x0'), false);
  });

  test('settle down frees room, settle up uses it; remaining never goes below 0', async () => {
    const { store } = clocked();
    assert.equal((await store.take('k', 'a', 50, 60, 1_000)).remaining, 10);
    assert.equal((await store.take('k', 'b', 20, 60, 1_000)).allowed, false);
    await store.settle('k', 'a', 10, 1_000); // the reservation was an over-estimate
    assert.equal((await store.take('k', 'b', 20, 60, 1_000)).remaining, 30);
    await store.settle('k', 'b', 80, 1_000); // the real usage exceeded the reservation
    const over = await store.take('k', 'c', 0, 60, 1_000);
    assert.equal(over.allowed, false);
    assert.equal(over.remaining, 0);
    await store.settle('k', 'b', 20, 1_000);
    assert.equal((await store.take('k', 'c', 30, 60, 1_000)).remaining, 0);
  });

  test('settling an expired or unknown entry is a no-op', async () => {
    const { store, advance } = clocked();
    await store.take('k', 'a', 50, 60, 1_000);
    advance(1_000);
    await store.settle('k', 'a', 500, 1_000); // gone: does not come back
    await store.settle('k', 'nobody', 500, 1_000);
    await store.settle('other', 'a', 500, 1_000);
    assert.equal((await store.take('k', 'b', 60, 60, 1_000)).allowed, true);
  });

  test('taking an id again replaces its entry instead of counting it twice', async () => {
    const { store, advance } = clocked();
    await store.take('k', 'a', 40, 60, 1_000);
    advance(500);
    assert.equal((await store.take('k', 'a', 50, 60, 1_000)).remaining, 10);
    advance(600); // the first take's time has passed; the entry is the re-take's
    assert.equal(store.holdsEntry('k', 'a'), true);
    assert.equal((await store.take('k', 'b', 20, 60, 1_000)).allowed, false);
  });

  test('keys are independent', async () => {
    const { store } = clocked();
    await store.take('a', 'x', 60, 60, 1_000);
    assert.equal((await store.take('b', 'x', 60, 60, 1_000)).allowed, true);
  });

  test('bad arguments are caller bugs and reject', async () => {
    const { store } = clocked();
    await assert.rejects(store.take('k', 'a', -1, 60, 1_000), RangeError);
    await assert.rejects(store.take('k', 'a', 1.5, 60, 1_000), RangeError);
    await assert.rejects(store.take('k', 'a', 1, Infinity, 1_000), RangeError);
    await assert.rejects(store.take('k', 'a', 1, 60, 0), RangeError);
    await assert.rejects(store.take('', 'a', 1, 60, 1_000), TypeError);
    await assert.rejects(store.settle('k', '', 1, 1_000), TypeError);
    await assert.rejects(store.acquire('k', 'a', 1, -5), RangeError);
  });
});

describe('leases', () => {
  test('at most limit held; a release frees a slot; re-acquiring a held id renews it', async () => {
    const { store } = clocked();
    assert.deepEqual(await store.acquire('k', 'a', 2, 10_000), { allowed: true, limit: 2, current: 1 });
    assert.deepEqual(await store.acquire('k', 'b', 2, 10_000), { allowed: true, limit: 2, current: 2 });
    assert.deepEqual(await store.acquire('k', 'c', 2, 10_000), { allowed: false, limit: 2, current: 2 });
    assert.deepEqual(await store.acquire('k', 'a', 2, 10_000), { allowed: true, limit: 2, current: 2 });
    await store.release('k', 'a');
    assert.deepEqual(await store.acquire('k', 'c', 2, 10_000), { allowed: true, limit: 2, current: 2 });
    await store.release('k', 'nobody');
    await store.release('nothing', 'a');
  });

  test('a lease expires by itself after its ttl (a crashed router heals)', async () => {
    const { store, advance } = clocked();
    await store.acquire('k', 'a', 1, 1_000);
    advance(999);
    assert.equal((await store.acquire('k', 'b', 1, 1_000)).allowed, false);
    assert.equal(store.holdsLease('k', 'a'), true);
    advance(1);
    assert.equal(store.holdsLease('k', 'a'), false);
    assert.deepEqual(await store.acquire('k', 'b', 1, 1_000), { allowed: true, limit: 1, current: 1 });
  });

  test('a renewed lease lives from the renewal', async () => {
    const { store, advance } = clocked();
    await store.acquire('k', 'a', 1, 1_000);
    advance(900);
    await store.acquire('k', 'a', 1, 1_000);
    advance(900);
    assert.equal((await store.acquire('k', 'b', 1, 1_000)).allowed, false);
  });
});

describe('memory bound', () => {
  test('keys nobody touches again are dropped once everything in them expired', async () => {
    const { store, advance } = clocked();
    for (let i = 0; i < 1_000; i++) {
      await store.take(`w${i}`, 'a', 1, 10, 1_000);
      await store.acquire(`l${i}`, 'a', 1, 1_000);
    }
    assert.deepEqual(store.size, { windows: 1_000, leases: 1_000 });
    advance(1_000);
    for (let i = 0; i < 1_000; i++) await store.take('hot', `r${i}`, 1, 10_000, 60_000);
    assert.deepEqual(store.size, { windows: 1, leases: 0 });
  });

  test('a window that empties is forgotten when touched, and a released lease set at once', async () => {
    const { store, advance } = clocked();
    await store.take('k', 'a', 1, 10, 1_000);
    advance(1_000);
    await store.settle('k', 'a', 1, 1_000);
    assert.equal(store.size.windows, 0);
    await store.acquire('k', 'a', 1, 1_000);
    await store.release('k', 'a');
    assert.equal(store.size.leases, 0);
  });
});

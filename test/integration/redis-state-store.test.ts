// RedisStateStore on a real redis-server: the window and lease behaviours of the memory store, now
// on server time; two stores (two routers) sharing one limit under concurrent takes; the op budget
// on a hung server; and the outage policy when Redis is killed mid-run and restarted.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { SwitchyardError } from '../../router/core/errors.js';
import { RedisStateStore } from '../../router/state/redis-state-store.js';
import { ResilientStateStore } from '../../router/state/resilient-state-store.js';
import type { StateStatus, StateStore } from '../../router/state/state-store.js';
import { StateUnavailableError } from '../../router/state/state-unavailable-error.js';
import { startRedisServer, type RunningRedis } from '../helpers/redis-server.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const CONNECT_MS = 5_000;
/** The outage tests are about what a dead server does, not about a loaded CI box missing 50 ms (the hung-server test covers the budget). */
const OUTAGE_BUDGET_MS = 1_000;

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

/** A store already connected; a generous budget where a test is about arithmetic, not outages. */
async function connected(url: string, opTimeoutMs = 2_000, keyPrefix = 'test'): Promise<RedisStateStore> {
  const store = new RedisStateStore({ url, keyPrefix, opTimeoutMs });
  assert.equal(await store.ready(CONNECT_MS), true, 'connected');
  return store;
}

async function waitForStatus(store: StateStore, status: StateStatus): Promise<void> {
  const deadline = Date.now() + CONNECT_MS;
  while (store.status !== status) {
    if (Date.now() > deadline) assert.fail(`status stayed ${store.status}, wanted ${status}`);
    await sleep(10);
  }
}

/** `n` concurrent takes of cost 1 spread over `stores`; how many were allowed. */
async function concurrentTakes(stores: StateStore[], key: string, n: number, limit: number): Promise<number> {
  const takes = await Promise.all(Array.from({ length: n }, (_, i) => stores[i % stores.length]!.take(key, `r${i}-${randomUUID()}`, 1, limit, 60_000)));
  return takes.filter((t) => t.allowed).length;
}

describe('RedisStateStore on one redis-server', () => {
  let redis: RunningRedis;
  let store: RedisStateStore;
  let raw: Redis;
  before(async () => {
    redis = await startRedisServer();
    store = await connected(redis.url);
    raw = new Redis(redis.url);
  });
  after(async () => {
    await store.close();
    raw.disconnect();
    await redis.stop();
  });

  test('admits exactly the limit; the denied take says when it fits and when the window is clear', async () => {
    const key = randomUUID();
    for (let i = 0; i < 60; i++) {
      const take = await store.take(key, `r${i}`, 1, 60, 60_000);
      assert.deepEqual(take, { allowed: true, limit: 60, remaining: 59 - i, retryAfterMs: 0, resetMs: 60_000 });
    }
    const denied = await store.take(key, 'r60', 1, 60, 60_000);
    assert.equal(denied.allowed, false);
    assert.equal(denied.remaining, 0);
    assert.ok(denied.retryAfterMs > 0 && denied.retryAfterMs <= denied.resetMs && denied.resetMs <= 60_000, JSON.stringify(denied));
  });

  test('retryAfter walks the oldest entries; after it the take fits, and expired entries leave the total', async () => {
    const key = randomUUID();
    await store.take(key, 'a', 10, 60, 600);
    await sleep(30);
    await store.take(key, 'b', 20, 60, 600);
    await sleep(30);
    await store.take(key, 'c', 30, 60, 600);
    const [aTime, bTime, cTime] = await Promise.all(['a', 'b', 'c'].map(async (id) => Number(await raw.zscore(`swy:test:{${key}}:log`, id))));
    const t0 = await serverNow(raw);
    const needsB = await store.take(key, 'd', 25, 60, 600); // a and b must leave
    const needsA = await store.take(key, 'e', 5, 60, 600); // a is enough
    const t1 = await serverNow(raw);
    assert.equal(needsB.allowed, false);
    // exact on server time: the script's now lies between t0 and t1
    assert.ok(needsB.retryAfterMs >= bTime! + 600 - t1 && needsB.retryAfterMs <= bTime! + 600 - t0, `${JSON.stringify(needsB)} b=${bTime} t0=${t0} t1=${t1}`);
    assert.ok(needsA.retryAfterMs >= aTime! + 600 - t1 && needsA.retryAfterMs <= aTime! + 600 - t0, JSON.stringify(needsA));
    assert.ok(needsB.resetMs >= cTime! + 600 - t1 && needsB.resetMs <= cTime! + 600 - t0, JSON.stringify(needsB));
    assert.ok(needsA.retryAfterMs < needsB.retryAfterMs, `${needsA.retryAfterMs} < ${needsB.retryAfterMs}`);
    assert.ok(needsB.retryAfterMs < needsB.resetMs, `${needsB.retryAfterMs} < ${needsB.resetMs}`);
    await sleep(needsB.retryAfterMs + 5);
    const fits = await store.take(key, 'd', 25, 60, 600);
    assert.equal(fits.allowed, true, JSON.stringify(fits));
    assert.equal(fits.remaining, 5);
    assert.equal(await raw.get(`swy:test:{${key}}:total`), '55');
    assert.equal(await raw.hlen(`swy:test:{${key}}:cost`), 2);
  });

  test('a cost above the limit never fits', async () => {
    const take = await store.take(randomUUID(), 'big', 61, 60, 1_000);
    assert.deepEqual(take, { allowed: false, limit: 60, remaining: 60, retryAfterMs: Infinity, resetMs: 0 });
  });

  test('settle is exact: down frees room, up uses it, an expired entry stays gone', async () => {
    const key = randomUUID();
    await store.take(key, 'a', 50, 60, 60_000);
    assert.equal((await store.take(key, 'b', 20, 60, 60_000)).allowed, false);
    await store.settle(key, 'a', 10, 60_000);
    assert.equal((await store.take(key, 'b', 20, 60, 60_000)).remaining, 30);
    await store.settle(key, 'b', 80, 60_000);
    const over = await store.take(key, 'c', 0, 60, 60_000);
    assert.equal(over.allowed, false);
    assert.equal(over.remaining, 0);
    await store.settle(key, 'nobody', 5, 60_000);
    assert.equal(await raw.get(`swy:test:{${key}}:total`), '90');

    const short = randomUUID();
    await store.take(short, 'a', 50, 60, 100);
    await sleep(120);
    await store.settle(short, 'a', 500, 100);
    assert.equal((await store.take(short, 'b', 60, 60, 100)).allowed, true);
  });

  test('keys: prefixed, one hash tag per logical key, and they expire with the window', async () => {
    const key = `tenant:${randomUUID()}`;
    await store.take(key, 'a', 1, 10, 200);
    await store.acquire(key, 'a', 1, 200);
    const keys = (await raw.keys(`swy:test:{${key}}:*`)).sort();
    assert.deepEqual(keys, ['cost', 'lease', 'log', 'total'].map((s) => `swy:test:{${key}}:${s}`));
    for (const k of keys) {
      const ttl = await raw.pttl(k);
      assert.ok(ttl > 0 && ttl <= 200, `${k} ${ttl}`);
    }
    await sleep(250);
    assert.deepEqual(await raw.keys(`swy:test:{${key}}:*`), []);
  });

  test('leases: at most limit, release frees one, renewal, expiry after ttl', async () => {
    const key = randomUUID();
    assert.deepEqual(await store.acquire(key, 'a', 2, 300), { allowed: true, limit: 2, current: 1 });
    assert.deepEqual(await store.acquire(key, 'b', 2, 300), { allowed: true, limit: 2, current: 2 });
    assert.deepEqual(await store.acquire(key, 'c', 2, 300), { allowed: false, limit: 2, current: 2 });
    assert.deepEqual(await store.acquire(key, 'a', 2, 300), { allowed: true, limit: 2, current: 2 });
    await store.release(key, 'a');
    assert.deepEqual(await store.acquire(key, 'c', 2, 300), { allowed: true, limit: 2, current: 2 });
    await sleep(350);
    assert.deepEqual(await store.acquire(key, 'd', 2, 300), { allowed: true, limit: 2, current: 1 });
  });

  test('two stores sharing one Redis admit exactly the limit under concurrent takes', async () => {
    const other = await connected(redis.url);
    try {
      const key = randomUUID();
      assert.equal(await concurrentTakes([store, other], key, 200, 60), 60);
      const leaseKey = randomUUID();
      const leases = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? store : other).acquire(leaseKey, `l${i}`, 7, 10_000)));
      assert.equal(leases.filter((l) => l.allowed).length, 7);
      // one router takes, the other settles: the total is one
      const shared = randomUUID();
      await store.take(shared, 'x', 40, 60, 60_000);
      await other.settle(shared, 'x', 5, 60_000);
      assert.equal((await store.take(shared, 'y', 55, 60, 60_000)).remaining, 0);
    } finally {
      await other.close();
    }
  });

  test('a prefix with braces is refused (it would break the hash tag)', () => {
    assert.throws(() => new RedisStateStore({ url: redis.url, keyPrefix: 'a{b}' }), RangeError);
  });
});

/** Redis server time in ms, as the scripts read it. */
async function serverNow(raw: Redis): Promise<number> {
  const [seconds, micros] = await raw.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

describe('outages on a real redis-server', () => {
  test('status: connecting → connected → disconnected (killed) → connected (restarted)', async () => {
    const redis = await startRedisServer();
    const store = new RedisStateStore({ url: redis.url, keyPrefix: 'status' });
    try {
      assert.equal(store.status, 'connecting');
      assert.equal(await store.ready(CONNECT_MS), true);
      assert.equal(store.status, 'connected');
      await redis.kill();
      await waitForStatus(store, 'disconnected');
      await assert.rejects(store.take('k', 'a', 1, 10, 1_000), StateUnavailableError);
      await redis.restart();
      assert.equal(await store.ready(CONNECT_MS), true);
      assert.equal(store.status, 'connected');
      assert.equal((await store.take('k', 'a', 1, 10, 1_000)).allowed, true);
    } finally {
      await store.close();
      await redis.stop();
    }
    assert.equal(store.status, 'disconnected');
  });

  test('a hung server: the op fails with StateUnavailableError at its budget, and the store recovers', async () => {
    const redis = await startRedisServer();
    const store = await connected(redis.url, 50, 'hung');
    try {
      redis.pause();
      await assert.rejects(store.take('k', 'a', 1, 10, 1_000), (err: unknown) => err instanceof StateUnavailableError && /within 50 ms/.test(err.message));
      redis.resume();
      assert.equal(await store.ready(CONNECT_MS), true);
      let answered = false;
      for (let i = 0; i < 100 && !answered; i++) {
        answered = await store.take('k', `b${i}`, 1, 1_000, 1_000).then(() => true, async () => (await sleep(20), false));
      }
      assert.equal(answered, true);
    } finally {
      redis.resume();
      await store.close();
      await redis.stop();
    }
  });

  test('failOpen: Redis killed mid-run → takes served locally, nothing unhandled; after restart the global limit holds again', async () => {
    const redis = await startRedisServer();
    const a = new ResilientStateStore(await connected(redis.url, OUTAGE_BUDGET_MS, 'open'));
    const b = new ResilientStateStore(await connected(redis.url, OUTAGE_BUDGET_MS, 'open'));
    const unhandledBefore = unhandled.length;
    try {
      const key = randomUUID();
      assert.equal(await concurrentTakes([a, b], key, 40, 60), 40);
      assert.equal(a.fallbackTotal('take') + b.fallbackTotal('take'), 0);
      const lease = await a.acquire(key, 'held', 5, 60_000);
      assert.equal(lease.allowed, true);

      // takes in flight while the server dies: every one settles, allowed or not, none rejects
      const inFlight = Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).take(key, `mid${i}`, 1, 60, 60_000)));
      await redis.kill();
      const mid = await inFlight;
      assert.equal(mid.length, 100);
      await waitForStatus(a, 'disconnected');
      assert.equal(a.up, false);

      // now everything is local: each replica enforces the limit on its own
      const localKey = randomUUID();
      assert.equal(await concurrentTakes([a], localKey, 100, 60), 60);
      assert.equal(await concurrentTakes([b], localKey, 100, 60), 60);
      assert.ok(a.fallbackTotal('take') >= 100 && b.fallbackTotal('take') >= 100);
      assert.equal((await a.acquire(localKey, 'l', 1, 60_000)).allowed, true);
      await a.release(key, 'held'); // held in Redis: dropped, it expires there by itself
      await a.settle(key, 'r0', 5, 60_000);

      await redis.restart();
      assert.equal(await a.ready(CONNECT_MS), true);
      assert.equal(await b.ready(CONNECT_MS), true);
      assert.equal(a.status, 'connected');
      assert.equal(a.up, true);
      const before = a.fallbackTotal('take') + b.fallbackTotal('take');
      const globalKey = randomUUID();
      assert.equal(await concurrentTakes([a, b], globalKey, 200, 60), 60);
      assert.equal(a.fallbackTotal('take') + b.fallbackTotal('take'), before, 'after the restart takes went to Redis');
    } finally {
      await a.close();
      await b.close();
      await redis.stop();
    }
    await sleep(50); // let any stray rejection surface
    assert.deepEqual(unhandled.slice(unhandledBefore), []);
  });

  test('failClosed: Redis killed → SWY_ERR_ADMIT_STATE_UNAVAILABLE; after restart takes are served again', async () => {
    const redis = await startRedisServer();
    const store = new ResilientStateStore(await connected(redis.url, OUTAGE_BUDGET_MS, 'closed'), { outage: 'failClosed' });
    const unhandledBefore = unhandled.length;
    try {
      assert.equal((await store.take('k', 'a', 1, 10, 60_000)).allowed, true);
      await redis.kill();
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.take('k', `x${i}`, 1, 10, 60_000)));
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        const err = outcome.status === 'rejected' ? outcome.reason : undefined;
        assert.ok(err instanceof SwitchyardError, String(err));
        assert.equal(err.code, 'SWY_ERR_ADMIT_STATE_UNAVAILABLE');
        assert.equal(err.httpStatus, 503);
        assert.equal(err.retryAfterS, 1);
      }
      await assert.rejects(store.acquire('k', 'l', 1, 1_000), (err: unknown) => err instanceof SwitchyardError && err.code === 'SWY_ERR_ADMIT_STATE_UNAVAILABLE');
      await store.settle('k', 'a', 3, 60_000); // best effort: resolves
      await redis.restart();
      assert.equal(await store.ready(CONNECT_MS), true);
      const key = randomUUID();
      assert.equal(await concurrentTakes([store], key, 30, 10), 10);
    } finally {
      await store.close();
      await redis.stop();
    }
    await sleep(50);
    assert.deepEqual(unhandled.slice(unhandledBefore), []);
  });
});

// Limits shared by N routers through one Redis: each op is one Lua script (redis-scripts.ts), sent
// as EVALSHA with ioredis's EVAL fallback. Every op has a time budget (opTimeoutMs) and fails with
// StateUnavailableError when Redis does not answer in time or is not connected: an admission check
// must never wait on Redis longer than that, nor queue behind a reconnect (enableOfflineQueue off).
// The client reconnects by itself, forever, with a capped back-off.
import { Redis } from 'ioredis';
import { ACQUIRE_LUA, SETTLE_LUA, TAKE_LUA } from './redis-scripts.js';
import { assertAcquireArgs, assertReleaseArgs, assertSettleArgs, assertTakeArgs } from './state-arguments.js';
import { SILENT_STATE_LOGGER, type StateLogger } from './state-logger.js';
import type { LeaseTake, StateStatus, StateStore, WindowTake } from './state-store.js';
import { StateUnavailableError } from './state-unavailable-error.js';

export const DEFAULT_OP_TIMEOUT_MS = 50;
const DEFAULT_RECONNECT_MAX_DELAY_MS = 1_000;
const CONNECT_TIMEOUT_MS = 2_000;
const CLOSE_TIMEOUT_MS = 1_000;

export interface RedisStateStoreOptions {
  /** redis://[user:password@]host:port[/db] (rediss:// for TLS). */
  readonly url: string;
  /** Keys are `swy:<keyPrefix>:{<key>}:…`; letters, digits and `_.:-` only (no braces: they are the hash tag). */
  readonly keyPrefix?: string;
  /** Budget for one op, connected or not (default 50 ms). */
  readonly opTimeoutMs?: number;
  /** Cap of the reconnect back-off (default 1 s). */
  readonly reconnectMaxDelayMs?: number;
  readonly logger?: StateLogger;
}

/** The scripts registered with defineCommand; ioredis adds them as methods. */
interface StateScripts {
  swyTake(log: string, costs: string, total: string, id: string, cost: number, limit: number, windowMs: number): Promise<unknown>;
  swySettle(log: string, costs: string, total: string, id: string, cost: number, windowMs: number): Promise<unknown>;
  swyAcquire(leases: string, id: string, limit: number, ttlMs: number): Promise<unknown>;
}

const KEY_PREFIX = /^[A-Za-z0-9_.:-]*$/;

export class RedisStateStore implements StateStore {
  readonly #redis: Redis & StateScripts;
  readonly #base: string;
  readonly #opTimeoutMs: number;
  readonly #logger: StateLogger;
  #status: StateStatus = 'connecting';
  #errorLogged = false;
  #closed = false;

  constructor(options: RedisStateStoreOptions) {
    const prefix = options.keyPrefix ?? '';
    if (!KEY_PREFIX.test(prefix)) throw new RangeError(`keyPrefix may hold only letters, digits and _.:- (got ${JSON.stringify(prefix)})`);
    this.#base = prefix === '' ? 'swy:' : `swy:${prefix}:`;
    this.#opTimeoutMs = options.opTimeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
    if (!(this.#opTimeoutMs > 0)) throw new RangeError(`opTimeoutMs must be > 0, got ${this.#opTimeoutMs}`);
    this.#logger = options.logger ?? SILENT_STATE_LOGGER;
    const maxDelay = options.reconnectMaxDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS;
    const redis = new Redis(options.url, {
      enableOfflineQueue: false, // fail fast while disconnected; never queue unboundedly
      maxRetriesPerRequest: 0, // a command caught by a disconnect fails; it is not resent later
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay) + Math.floor(Math.random() * 50),
      connectTimeout: CONNECT_TIMEOUT_MS,
      // a hung server (stopped, black-holed) with commands pending: drop the socket and reconnect,
      // so late replies do not pile up behind budgets that already expired
      socketTimeout: Math.max(1_000, 20 * this.#opTimeoutMs),
      lazyConnect: false,
    });
    redis.defineCommand('swyTake', { numberOfKeys: 3, lua: TAKE_LUA });
    redis.defineCommand('swySettle', { numberOfKeys: 3, lua: SETTLE_LUA });
    redis.defineCommand('swyAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA });
    this.#redis = redis as Redis & StateScripts;
    redis.on('ready', () => this.#setStatus('connected'));
    redis.on('close', () => this.#setStatus('disconnected'));
    redis.on('end', () => this.#setStatus('disconnected'));
    redis.on('error', (err: Error) => {
      if (this.#errorLogged || this.#closed) return; // once per state change: a down Redis errors on every reconnect
      this.#errorLogged = true;
      this.#logger.warn({ event: 'state-store-error', err: err.message, status: this.#status }, `Redis state store: ${err.message}`);
    });
  }

  get status(): StateStatus {
    return this.#status;
  }

  /** Resolves true once connected, false when `timeoutMs` passes first. */
  async ready(timeoutMs: number): Promise<boolean> {
    if (this.#status === 'connected') return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.#redis.off('ready', onReady);
        resolve(ok);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#redis.on('ready', onReady);
    });
  }

  async take(key: string, id: string, cost: number, limit: number, windowMs: number): Promise<WindowTake> {
    assertTakeArgs(key, id, cost, limit, windowMs);
    const [log, costs, total] = this.#windowKeys(key);
    const reply = await this.#run('take', () => this.#redis.swyTake(log, costs, total, id, cost, limit, windowMs));
    const [allowed, sum, retryAfterMs, resetMs] = integers(reply, 4);
    return {
      allowed: allowed === 1,
      limit,
      remaining: Math.max(0, limit - sum),
      retryAfterMs: retryAfterMs < 0 ? Infinity : retryAfterMs,
      resetMs,
    };
  }

  async settle(key: string, id: string, cost: number, windowMs: number): Promise<void> {
    assertSettleArgs(key, id, cost, windowMs);
    const [log, costs, total] = this.#windowKeys(key);
    await this.#run('settle', () => this.#redis.swySettle(log, costs, total, id, cost, windowMs));
  }

  async acquire(key: string, id: string, limit: number, ttlMs: number): Promise<LeaseTake> {
    assertAcquireArgs(key, id, limit, ttlMs);
    const reply = await this.#run('acquire', () => this.#redis.swyAcquire(this.#leaseKey(key), id, limit, ttlMs));
    const [allowed, current] = integers(reply, 2);
    return { allowed: allowed === 1, limit, current };
  }

  async release(key: string, id: string): Promise<void> {
    assertReleaseArgs(key, id);
    await this.#run('release', () => this.#redis.zrem(this.#leaseKey(key), id));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#redis.status === 'ready') {
      await withBudget(this.#redis.quit(), CLOSE_TIMEOUT_MS).catch(() => {});
    }
    this.#redis.disconnect(); // stops reconnecting, whatever quit did
    this.#status = 'disconnected';
  }

  /** The key names of a window: one hash tag, so a Redis Cluster keeps them in one slot. */
  #windowKeys(key: string): [string, string, string] {
    const base = `${this.#base}{${key}}`;
    return [`${base}:log`, `${base}:cost`, `${base}:total`];
  }

  #leaseKey(key: string): string {
    return `${this.#base}{${key}}:lease`;
  }

  /** One command within the budget; every failure becomes StateUnavailableError (the outage policy decides). */
  async #run<T>(op: string, send: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StateUnavailableError(`state store is closed (${op})`);
    if (this.#redis.status !== 'ready') throw new StateUnavailableError(`Redis is ${this.#status} (${op})`);
    try {
      return await withBudget(send(), this.#opTimeoutMs);
    } catch (err) {
      if (err instanceof StateUnavailableError) throw err;
      throw new StateUnavailableError(`Redis ${op} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  #setStatus(status: StateStatus): void {
    if (this.#closed || status === this.#status) return;
    const was = this.#status;
    this.#status = status;
    this.#errorLogged = false;
    if (status === 'connected') this.#logger.info({ event: 'state-store-connected', was }, 'Redis state store connected');
    else this.#logger.warn({ event: 'state-store-disconnected', was }, 'Redis state store disconnected; reconnecting');
  }
}

/** `promise`, or StateUnavailableError once `ms` pass (the late outcome is ignored, never unhandled). */
function withBudget<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StateUnavailableError(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, budget]).finally(() => clearTimeout(timer));
}

function integers(reply: unknown, n: 4): [number, number, number, number];
function integers(reply: unknown, n: 2): [number, number];
function integers(reply: unknown, n: number): number[] {
  if (!Array.isArray(reply) || reply.length !== n || !reply.every((v) => typeof v === 'number')) {
    throw new StateUnavailableError(`unexpected Redis script reply ${JSON.stringify(reply)}`);
  }
  return reply as number[];
}

// The outage policy around the shared (Redis) store. Every op goes to the primary first; when it
// throws StateUnavailableError:
// - failOpen (default): takes and acquires are served by a local MemoryStateStore, so each replica
//   still enforces the limit — on its own. During an outage the effective limit is per replica
//   (N replicas admit up to N × limit × localLimitShare); localLimitShare (e.g. 1/N) scales the
//   local limits down to approximate the global one.
// - failClosed: takes and acquires reject with SWY_ERR_ADMIT_STATE_UNAVAILABLE (503, Retry-After 1).
// Settles and releases never reject: they come after the work is done, and the state heals by
// itself (a reservation keeps its estimate until it leaves the window, a lease expires after its
// ttl). They go to the store that holds the entry: one taken locally is settled/released locally,
// also after Redis is back. Each op retries the primary, so once Redis answers again new takes are
// global again; what was taken locally during the outage is simply not in Redis (a brief overshoot
// of at most one window's worth of local admissions).
import { SwitchyardError } from '../core/errors.js';
import { MemoryStateStore } from './memory-state-store.js';
import type { ObservedStateStore, StateOp } from './observed-state-store.js';
import { SILENT_STATE_LOGGER, type StateLogger } from './state-logger.js';
import type { LeaseTake, StateStatus, StateStore, WindowTake } from './state-store.js';
import { StateUnavailableError } from './state-unavailable-error.js';

export type OutagePolicy = 'failOpen' | 'failClosed';

export interface ResilientStateStoreOptions {
  readonly outage?: OutagePolicy;
  /** 0 < share ≤ 1 (default 1): the fraction of each limit one replica enforces locally during an outage. */
  readonly localLimitShare?: number;
  /** The local store (tests pass one with a fake clock). */
  readonly fallback?: MemoryStateStore;
  readonly logger?: StateLogger;
}

/** The primary: a StateStore, optionally able to say when it is connected (RedisStateStore). */
export type PrimaryStateStore = StateStore & { ready?(timeoutMs: number): Promise<boolean> };

export class ResilientStateStore implements ObservedStateStore {
  readonly kind = 'redis' as const;
  readonly #primary: PrimaryStateStore;
  readonly #fallback: MemoryStateStore;
  readonly #outage: OutagePolicy;
  readonly #share: number;
  readonly #logger: StateLogger;
  readonly #fallbacks: Record<StateOp, number> = { take: 0, settle: 0, acquire: 0, release: 0 };
  #inOutage = false;

  constructor(primary: PrimaryStateStore, options: ResilientStateStoreOptions = {}) {
    const share = options.localLimitShare ?? 1;
    if (!(share > 0 && share <= 1)) throw new RangeError(`localLimitShare must be in (0, 1], got ${share}`);
    this.#primary = primary;
    this.#fallback = options.fallback ?? new MemoryStateStore();
    this.#outage = options.outage ?? 'failOpen';
    this.#share = share;
    this.#logger = options.logger ?? SILENT_STATE_LOGGER;
  }

  get status(): StateStatus {
    return this.#primary.status;
  }

  get up(): boolean {
    return this.#primary.status === 'connected' || this.#primary.status === 'memory';
  }

  fallbackTotal(op: StateOp): number {
    return this.#fallbacks[op];
  }

  async ready(timeoutMs: number): Promise<boolean> {
    return this.#primary.ready === undefined ? this.up : this.#primary.ready(timeoutMs);
  }

  async take(key: string, id: string, cost: number, limit: number, windowMs: number): Promise<WindowTake> {
    try {
      return this.#served(await this.#primary.take(key, id, cost, limit, windowMs));
    } catch (err) {
      this.#unavailable('take', err);
      const local = await this.#fallback.take(key, id, cost, this.#localLimit(limit), windowMs);
      // fits the real limit but not the local share: not "never" — Redis may well be back in a window
      if (local.retryAfterMs === Infinity && cost <= limit) return { ...local, retryAfterMs: windowMs };
      return local;
    }
  }

  async settle(key: string, id: string, cost: number, windowMs: number): Promise<void> {
    if (this.#fallback.holdsEntry(key, id)) {
      this.#fallbacks.settle++;
      return this.#fallback.settle(key, id, cost, windowMs);
    }
    try {
      this.#served(await this.#primary.settle(key, id, cost, windowMs));
    } catch (err) {
      this.#dropped('settle', err); // the entry keeps its reserved cost until it leaves the window
    }
  }

  async acquire(key: string, id: string, limit: number, ttlMs: number): Promise<LeaseTake> {
    try {
      return this.#served(await this.#primary.acquire(key, id, limit, ttlMs));
    } catch (err) {
      this.#unavailable('acquire', err);
      return this.#fallback.acquire(key, id, this.#localLimit(limit), ttlMs);
    }
  }

  async release(key: string, id: string): Promise<void> {
    if (this.#fallback.holdsLease(key, id)) {
      this.#fallbacks.release++;
      return this.#fallback.release(key, id);
    }
    try {
      this.#served(await this.#primary.release(key, id));
    } catch (err) {
      this.#dropped('release', err); // the lease expires by itself after its ttl
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#primary.close(), this.#fallback.close()]);
  }

  #localLimit(limit: number): number {
    if (this.#share === 1 || limit <= 0) return limit;
    return Math.max(1, Math.floor(limit * this.#share));
  }

  /** The primary answered: the outage, if any, is over. */
  #served<T>(result: T): T {
    if (this.#inOutage) {
      this.#inOutage = false;
      this.#logger.info({ event: 'state-store-recovered' }, 'shared limit state answers again; limits are global again');
    }
    return result;
  }

  /** A take/acquire the primary could not serve: rethrows anything but unavailability, or rejects under failClosed. */
  #unavailable(op: StateOp, err: unknown): void {
    if (!(err instanceof StateUnavailableError)) throw err;
    this.#fallbacks[op]++;
    this.#enterOutage(err);
    if (this.#outage === 'failClosed') {
      throw new SwitchyardError('SWY_ERR_ADMIT_STATE_UNAVAILABLE', 'the shared limit state is unavailable; retry shortly', { cause: err, retryAfterS: 1 });
    }
  }

  #dropped(op: StateOp, err: unknown): void {
    if (!(err instanceof StateUnavailableError)) throw err;
    this.#fallbacks[op]++;
    this.#enterOutage(err);
  }

  #enterOutage(err: StateUnavailableError): void {
    if (this.#inOutage) return;
    this.#inOutage = true;
    const what = this.#outage === 'failOpen' ? `limits are enforced per replica from local memory (localLimitShare ${this.#share})` : 'limited requests are rejected (failClosed)';
    this.#logger.warn({ event: 'state-store-unavailable', err: err.message, outage: this.#outage }, `shared limit state unavailable: ${what}`);
  }
}

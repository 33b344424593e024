// Limits for one router process: sliding-window logs and leases in memory. Serves `state.kind:
// memory`, and is the Redis store's local fallback during an outage. Every op is synchronous inside
// its promise, so each one is atomic. Memory holds only what is still inside a window: expired
// entries are pruned when their key is touched, and a sweep that advances a few keys per op drops
// keys nobody touches any more, without a timer.
import { assertAcquireArgs, assertReleaseArgs, assertSettleArgs, assertTakeArgs } from './state-arguments.js';
import type { ObservedStateStore } from './observed-state-store.js';
import type { LeaseTake, WindowTake } from './state-store.js';

export interface MemoryStateStoreOptions {
  /** Milliseconds on a clock that never goes back (default performance.now); tests pass a fake one. */
  readonly now?: () => number;
}

interface Entry {
  readonly time: number;
  cost: number;
}

/** One key's log: entries in time order (insertion order, with times clamped to be non-decreasing). */
interface WindowLog {
  readonly entries: Map<string, Entry>;
  total: number;
  windowMs: number;
  newest: number;
}

interface LeaseSet {
  /** Lease id → the time it expires. */
  readonly held: Map<string, number>;
  /** The latest expiry ever granted here: the whole set is stale once it passed. */
  latest: number;
}

/** Keys the sweep looks at per op: enough to keep up with any rate of new keys (each op adds at most one). */
const SWEEP_STEP = 2;

export class MemoryStateStore implements ObservedStateStore {
  readonly status = 'memory' as const;
  readonly kind = 'memory' as const;
  readonly up = true;
  readonly #now: () => number;
  readonly #windows = new Map<string, WindowLog>();
  readonly #leases = new Map<string, LeaseSet>();
  #windowCursor: Iterator<[string, WindowLog]> | undefined;
  #leaseCursor: Iterator<[string, LeaseSet]> | undefined;

  constructor(options: MemoryStateStoreOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
  }

  fallbackTotal(): number {
    return 0;
  }

  async ready(): Promise<boolean> {
    return true;
  }

  /** Keys held (windows and lease sets), for tests and the memory bound. */
  get size(): { readonly windows: number; readonly leases: number } {
    return { windows: this.#windows.size, leases: this.#leases.size };
  }

  async take(key: string, id: string, cost: number, limit: number, windowMs: number): Promise<WindowTake> {
    assertTakeArgs(key, id, cost, limit, windowMs);
    const now = this.#now();
    this.#sweep(now);
    let log = this.#liveWindow(key, windowMs, now);
    const old = log?.entries.get(id)?.cost ?? 0;
    const others = (log?.total ?? 0) - old;
    if (others + cost <= limit) {
      if (log === undefined) {
        log = { entries: new Map(), total: 0, windowMs, newest: now };
        this.#windows.set(key, log);
      }
      const time = Math.max(now, log.newest);
      log.entries.delete(id); // a re-used id moves to the end, keeping time order
      log.entries.set(id, { time, cost });
      log.total = others + cost;
      log.newest = time;
      return { allowed: true, limit, remaining: Math.max(0, limit - log.total), retryAfterMs: 0, resetMs: time + windowMs - now };
    }
    const total = log?.total ?? 0;
    return {
      allowed: false,
      limit,
      remaining: Math.max(0, limit - total),
      retryAfterMs: log === undefined ? Infinity : retryAfter(log, id, others + cost - limit, cost <= limit, now),
      resetMs: log === undefined ? 0 : log.newest + log.windowMs - now,
    };
  }

  async settle(key: string, id: string, cost: number, windowMs: number): Promise<void> {
    assertSettleArgs(key, id, cost, windowMs);
    const now = this.#now();
    this.#sweep(now);
    const log = this.#liveWindow(key, windowMs, now);
    const entry = log?.entries.get(id);
    if (log === undefined || entry === undefined) return;
    log.total += cost - entry.cost;
    entry.cost = cost;
  }

  async acquire(key: string, id: string, limit: number, ttlMs: number): Promise<LeaseTake> {
    assertAcquireArgs(key, id, limit, ttlMs);
    const now = this.#now();
    this.#sweep(now);
    let set = this.#liveLeases(key, now);
    const mine = set?.held.has(id) ?? false;
    const current = set?.held.size ?? 0;
    if (!mine && current >= limit) return { allowed: false, limit, current };
    if (set === undefined) {
      set = { held: new Map(), latest: 0 };
      this.#leases.set(key, set);
    }
    set.held.set(id, now + ttlMs);
    set.latest = Math.max(set.latest, now + ttlMs);
    return { allowed: true, limit, current: set.held.size };
  }

  async release(key: string, id: string): Promise<void> {
    assertReleaseArgs(key, id);
    this.#sweep(this.#now());
    const set = this.#leases.get(key);
    if (set === undefined) return;
    set.held.delete(id);
    if (set.held.size === 0) this.#leases.delete(key);
  }

  async close(): Promise<void> {
    this.#windows.clear();
    this.#leases.clear();
  }

  /** Entry `id` is still in `key`'s window here (the resilient store settles it here, not in Redis). */
  holdsEntry(key: string, id: string): boolean {
    const log = this.#windows.get(key);
    const entry = log?.entries.get(id);
    return log !== undefined && entry !== undefined && entry.time + log.windowMs > this.#now();
  }

  /** Lease `id` on `key` is held here and not expired. */
  holdsLease(key: string, id: string): boolean {
    const expires = this.#leases.get(key)?.held.get(id);
    return expires !== undefined && expires > this.#now();
  }

  /** `key`'s log with expired entries dropped, or undefined (and forgotten) when nothing is left in it. */
  #liveWindow(key: string, windowMs: number, now: number): WindowLog | undefined {
    const log = this.#windows.get(key);
    if (log === undefined) return undefined;
    log.windowMs = windowMs;
    for (const [id, entry] of log.entries) {
      if (entry.time + windowMs > now) break; // time order: the rest are newer
      log.total -= entry.cost;
      log.entries.delete(id);
    }
    if (log.entries.size > 0) return log;
    this.#windows.delete(key);
    return undefined;
  }

  #liveLeases(key: string, now: number): LeaseSet | undefined {
    const set = this.#leases.get(key);
    if (set === undefined) return undefined;
    for (const [id, expires] of set.held) if (expires <= now) set.held.delete(id);
    if (set.held.size > 0) return set;
    this.#leases.delete(key);
    return undefined;
  }

  /** Drops a few keys whose every entry (lease) has expired; Map iterators survive deletes and inserts. */
  #sweep(now: number): void {
    for (let i = 0; i < SWEEP_STEP; i++) {
      this.#windowCursor ??= this.#windows.entries();
      const w = this.#windowCursor.next();
      if (w.done === true) this.#windowCursor = undefined;
      else if (w.value[1].newest + w.value[1].windowMs <= now) this.#windows.delete(w.value[0]);

      this.#leaseCursor ??= this.#leases.entries();
      const l = this.#leaseCursor.next();
      if (l.done === true) this.#leaseCursor = undefined;
      else if (l.value[1].latest <= now) this.#leases.delete(l.value[0]);
    }
  }
}

/**
 * Milliseconds until the oldest entries (other than `id`, already left out of the sum) free `need`:
 * the walk stops at the entry whose expiry frees enough. Infinity when the take can never fit.
 */
function retryAfter(log: WindowLog, id: string, need: number, fits: boolean, now: number): number {
  if (!fits) return Infinity;
  let freed = 0;
  for (const [entryId, entry] of log.entries) {
    if (entryId === id) continue;
    freed += entry.cost;
    if (freed >= need) return entry.time + log.windowMs - now;
  }
  return log.newest + log.windowMs - now; // unreachable while the total is consistent
}

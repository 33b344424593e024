// A StateStore for admission tests: the contract's semantics (sliding-window logs of settle-able
// entries, leases) on a hand-driven clock, every call recorded, and keys that can be made to fail.
import type { LeaseTake, StateStatus, StateStore, WindowTake } from '../../../router/state/state-store.js';

export class FakeStateStore implements StateStore {
  readonly status: StateStatus = 'memory';
  readonly calls: string[] = [];
  /** Keys whose take/acquire rejects with this error. */
  readonly failing = new Map<string, Error>();
  now = 0;
  readonly #windows = new Map<string, Map<string, { time: number; cost: number }>>();
  readonly #leases = new Map<string, Set<string>>();

  async take(key: string, id: string, cost: number, limit: number, windowMs: number): Promise<WindowTake> {
    this.calls.push(`take ${key} ${cost}/${limit}`);
    const failure = this.failing.get(key);
    if (failure !== undefined) throw failure;
    const log = this.#log(key, windowMs);
    const used = [...log.values()].reduce((sum, e) => sum + e.cost, 0);
    const oldest = Math.min(...[...log.values()].map((e) => e.time));
    const resetMs = log.size === 0 ? 0 : oldest + windowMs - this.now;
    if (used + cost > limit) {
      // Entries leave in time order: wait until enough has left for `cost` to fit.
      let left = used;
      let retryAfterMs = windowMs;
      for (const e of [...log.values()].sort((a, b) => a.time - b.time)) {
        left -= e.cost;
        if (left + cost <= limit) {
          retryAfterMs = e.time + windowMs - this.now;
          break;
        }
      }
      return { allowed: false, limit, remaining: limit - used, retryAfterMs, resetMs };
    }
    log.set(id, { time: this.now, cost });
    return { allowed: true, limit, remaining: limit - used - cost, retryAfterMs: 0, resetMs: log.size === 1 ? windowMs : resetMs };
  }

  async settle(key: string, id: string, cost: number, windowMs: number): Promise<void> {
    this.calls.push(`settle ${key} ${cost}`);
    const entry = this.#log(key, windowMs).get(id);
    if (entry !== undefined) entry.cost = cost;
  }

  async acquire(key: string, id: string, limit: number): Promise<LeaseTake> {
    this.calls.push(`acquire ${key} ${limit}`);
    const failure = this.failing.get(key);
    if (failure !== undefined) throw failure;
    let held = this.#leases.get(key);
    if (held === undefined) this.#leases.set(key, (held = new Set()));
    if (held.size >= limit) return { allowed: false, limit, current: held.size };
    held.add(id);
    return { allowed: true, limit, current: held.size };
  }

  async release(key: string, id: string): Promise<void> {
    this.calls.push(`release ${key}`);
    this.#leases.get(key)?.delete(id);
  }

  async close(): Promise<void> {}

  /** Cost in the window `key` now. */
  used(key: string, windowMs = 60_000): number {
    return [...this.#log(key, windowMs).values()].reduce((sum, e) => sum + e.cost, 0);
  }

  held(key: string): number {
    return this.#leases.get(key)?.size ?? 0;
  }

  #log(key: string, windowMs: number): Map<string, { time: number; cost: number }> {
    let log = this.#windows.get(key);
    if (log === undefined) this.#windows.set(key, (log = new Map()));
    for (const [id, e] of log) if (e.time <= this.now - windowMs) log.delete(id);
    return log;
  }
}

/** Lets the fire-and-forget settles and releases run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// Admission: a bounded number of requests in the router at once; beyond it, a fast rejection with
// Retry-After instead of unbounded queueing. Also what graceful drain waits on. The bound is live:
// a config reload may change it (see setMax).
import { SwitchyardError } from '../core/errors.js';

export class InFlightLimit {
  #max: number;
  #current = 0;
  #draining = false;
  #idleWaiters: Array<() => void> = [];

  constructor(max: number) {
    this.#max = max;
  }

  get max(): number {
    return this.#max;
  }

  /**
   * Changes the bound at once. Lowering it below the requests already admitted rejects no one: they
   * finish, and new requests are admitted again once fewer than `max` are in flight.
   */
  setMax(max: number): void {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`in-flight limit must be a positive integer, got ${max}`);
    this.#max = max;
  }

  get current(): number {
    return this.#current;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Admits one request or throws; call the returned function exactly once when it is done. */
  acquire(): () => void {
    if (this.#draining) {
      throw new SwitchyardError('SWY_ERR_ADMIT_OVERLOADED', 'router is shutting down', { retryAfterS: 1 });
    }
    if (this.#current >= this.#max) {
      throw new SwitchyardError('SWY_ERR_ADMIT_OVERLOADED', `router is at its limit of ${this.#max} in-flight requests`, { retryAfterS: 1 });
    }
    this.#current += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#current -= 1;
      if (this.#current === 0) this.#wakeIdle();
    };
  }

  /** Stops admitting; resolves once in-flight work is done or after timeoutMs, whichever is first. */
  drain(timeoutMs: number): Promise<void> {
    this.#draining = true;
    if (this.#current === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

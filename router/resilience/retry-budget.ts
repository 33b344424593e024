// Envoy's retry budget for one route: retries in flight may be at most budgetPercent % of the
// requests in flight, but minRetryConcurrency concurrent retries are always allowed. It bounds retry
// amplification when a whole cluster degrades (a fixed "retry 2×" would triple the load exactly when
// the upstream can least take it), while a quiet route can still retry its occasional failure.
import type { RetryConfig } from '../config/schema.js';

export class RetryBudget {
  readonly #budgetPercent: number;
  readonly #minRetryConcurrency: number;
  #requestsInFlight = 0;
  #retriesInFlight = 0;
  #retries = 0;
  #denied = 0;

  constructor(policy: Pick<RetryConfig, 'budgetPercent' | 'minRetryConcurrency'>) {
    this.#budgetPercent = policy.budgetPercent;
    this.#minRetryConcurrency = policy.minRetryConcurrency;
  }

  /** Counts one request in flight (the original attempt); call the returned function once when the request ends. */
  request(): () => void {
    this.#requestsInFlight++;
    return once(() => {
      this.#requestsInFlight--;
    });
  }

  /**
   * Permission for one retry attempt now: a release function (call once when the retry attempt
   * ends), or undefined when the budget is spent. A retried request is still one request in flight:
   * retries do not raise their own allowance.
   */
  tryRetry(): (() => void) | undefined {
    const next = this.#retriesInFlight + 1;
    // Integer-side comparison (next × 100 ≤ inFlight × percent) instead of a floored share, so
    // 10 requests at 20 % allow exactly 2 without floating-point edge cases.
    const allowed = next <= this.#minRetryConcurrency || next * 100 <= this.#requestsInFlight * this.#budgetPercent;
    if (!allowed) {
      this.#denied++;
      return undefined;
    }
    this.#retriesInFlight = next;
    this.#retries++;
    return once(() => {
      this.#retriesInFlight--;
    });
  }

  /** Cumulative counts, for tests and metrics. */
  get stats(): { readonly retries: number; readonly denied: number } {
    return { retries: this.#retries, denied: this.#denied };
  }
}

/** Release functions are idempotent: a double release must not hand out budget that is still in use. */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

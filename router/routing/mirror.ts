// Shadow copies of live traffic. Owns the sampling, the router-wide cap on concurrent shadow calls,
// each shadow's own lifetime (deadline, AbortController) and the comparison with the client's answer.
// Invariant: nothing here can reach the client — the caller never awaits a shadow, a shadow never
// shares the client's signal, deadline or report, every error is caught and counted, and the
// comparison runs on a later turn of the event loop than the client's answer.
import { performance } from 'node:perf_hooks';
import type { CallContext } from '../core/call-context.js';
import { asSwitchyardError, type CanonicalCode } from '../core/errors.js';
import { addLatency, MirrorStatsBook, type MirrorStats } from './mirror-stats.js';

export const DEFAULT_MAX_CONCURRENT_SHADOWS = 64;

/** How one side of a pair ended: OK or the canonical code it failed with, and how long it took. */
export interface Outcome<T> {
  readonly status: CanonicalCode;
  readonly latencyMs: number;
  /** Present when status is OK. */
  readonly value?: T;
}

export interface ShadowCall<T> {
  readonly model: string;
  /** The shadow's deadline is now + timeoutMs (the route's), whatever the client asked for. */
  readonly timeoutMs: number;
  /** The client's context: its request id and routing facts are reused; signal, deadline and report are not. */
  readonly ctx: CallContext;
  /** Settles, never rejects, once the client's answer is complete (or failed, or abandoned: CANCELLED). */
  readonly primary: Promise<Outcome<T>>;
  /** Sends the copy; resolves once its answer has been fully consumed. */
  readonly send: (ctx: CallContext) => Promise<T>;
  /** Whether two successful answers carry the same outputs; absent = outputs are not compared. */
  readonly sameOutputs?: (primary: T, shadow: T) => boolean;
}

/**
 * One compared pair, for metrics: `error` when the shadow failed; otherwise `match` when the client's
 * answer succeeded too with the same outputs (or outputs are not compared), else `mismatch`.
 */
export type MirrorComparison = 'match' | 'mismatch' | 'error';

export interface MirrorOptions {
  /** Shadow calls in flight at once, router-wide; sampled copies beyond it are skipped (counted). */
  readonly maxConcurrent?: number;
  readonly random?: () => number;
  /** Monotonic milliseconds, for latencies. */
  readonly now?: () => number;
  /** Told of every compared pair (not of pairs whose client left); must not throw. */
  readonly onCompared?: (model: string, result: MirrorComparison) => void;
}

export class Mirror {
  readonly #stats = new MirrorStatsBook();
  readonly #maxConcurrent: number;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #onCompared: (model: string, result: MirrorComparison) => void;
  #inFlight = 0;
  /** Shadows plus comparisons not yet recorded. */
  #pending = 0;
  #onIdle: (() => void)[] = [];

  constructor(options: MirrorOptions = {}) {
    this.#maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_SHADOWS;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => performance.now());
    this.#onCompared = options.onCompared ?? (() => {});
  }

  /** Shadow calls in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The per-request sampling decision: true with probability percent / 100. */
  sample(percent: number): boolean {
    return percent > 0 && this.#random() * 100 < percent;
  }

  /** Counts a sampled copy that could not be sent (no capacity, or nowhere to send it). */
  countSkipped(model: string): void {
    this.#stats.of(model).skipped += 1;
  }

  /** Starts the shadow call unless the cap is reached. Returns at once; never throws. */
  send<T>(call: ShadowCall<T>): void {
    const stats = this.#stats.of(call.model);
    if (this.#inFlight >= this.#maxConcurrent) {
      stats.skipped += 1;
      return;
    }
    this.#inFlight += 1;
    this.#pending += 1;
    stats.mirrored += 1;

    const controller = new AbortController();
    // Not tied to the client: a shadow runs to its own deadline even when the client has left.
    const timer = setTimeout(() => controller.abort(), call.timeoutMs);
    timer.unref();
    const ctx: CallContext = {
      requestId: `${call.ctx.requestId}-mirror`,
      deadline: Date.now() + call.timeoutMs,
      signal: controller.signal,
      ...(call.ctx.facts === undefined ? {} : { facts: call.ctx.facts }),
      report: {},
    };
    const started = this.#now();
    let sent: Promise<T>;
    try {
      sent = call.send(ctx);
    } catch (err) {
      sent = Promise.reject(err);
    }
    const shadow = outcomeOf(sent, started, this.#now);
    void shadow.then((outcome) => {
      clearTimeout(timer);
      this.#inFlight -= 1;
      if (outcome.status === 'OK') stats.mirrorOk += 1;
      else stats.mirrorFailed += 1;
    });
    void Promise.all([call.primary, shadow])
      // A later macrotask: the client's continuation (encoding, writing) runs before any comparing.
      .then(([primary, mirrored]) => new Promise<void>((resolve) => setImmediate(() => resolve(this.#compare(stats, call, primary, mirrored)))))
      .catch(() => undefined)
      .finally(() => this.#settle());
  }

  /** Cumulative counters per model; `alsoModels` are listed with zeros until they mirror something. */
  stats(alsoModels: Iterable<string> = []): Record<string, MirrorStats> {
    return this.#stats.snapshot(alsoModels);
  }

  /** Resolves once no shadow call or comparison is pending. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#onIdle.push(resolve));
  }

  #compare<T>(stats: MirrorStats, call: ShadowCall<T>, primary: Outcome<T>, mirrored: Outcome<T>): void {
    // The client left: its outcome says nothing about the variant, so the pair is not compared.
    if (primary.status === 'CANCELLED') return;
    addLatency(stats.primaryLatencyMs, primary.latencyMs);
    addLatency(stats.mirrorLatencyMs, mirrored.latencyMs);
    if (primary.status === mirrored.status) stats.statusMatch += 1;
    else stats.statusMismatch += 1;
    if (mirrored.status !== 'OK') return this.#onCompared(call.model, 'error');
    if (primary.status !== 'OK') return this.#onCompared(call.model, 'mismatch');
    if (call.sameOutputs === undefined) return this.#onCompared(call.model, 'match');
    let same: boolean;
    try {
      same = call.sameOutputs(primary.value as T, mirrored.value as T);
    } catch {
      same = false;
    }
    if (same) stats.outputsMatch += 1;
    else stats.outputsDiffer += 1;
    this.#onCompared(call.model, same ? 'match' : 'mismatch');
  }

  #settle(): void {
    this.#pending -= 1;
    if (this.#pending > 0) return;
    for (const resolve of this.#onIdle.splice(0)) resolve();
  }
}

/** The outcome of a call whose answer is complete when its promise settles (V2 infer). */
export function outcomeOf<T>(promise: Promise<T>, started: number, now: () => number = () => performance.now()): Promise<Outcome<T>> {
  return promise.then(
    (value): Outcome<T> => ({ status: 'OK', latencyMs: now() - started, value }),
    (err: unknown): Outcome<T> => ({ status: asSwitchyardError(err).canonical, latencyMs: now() - started }),
  );
}

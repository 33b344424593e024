// The metrics sink of one request: in flight, duration and count by (listener, model, variant,
// status class), the router's own overhead, rejections by reason, and for generations TTFT,
// inter-token latency, token counts and active streams. Timing is monotonic (performance.now).
import { performance } from 'node:perf_hooks';
import { SwitchyardError, type ErrorCode } from '../core/errors.js';
import { statusClass, type LlmSeries, type Metrics, type RejectReason } from './metrics.js';
import type { AttemptInfo, AttemptTelemetry, ListenerName, RequestTelemetry } from './request-telemetry.js';

const REJECTIONS: Partial<Record<ErrorCode, RejectReason>> = {
  SWY_ERR_ADMIT_OVERLOADED: 'overloaded',
  SWY_ERR_BATCH_QUEUE_FULL: 'batch_queue_full',
};

export interface RequestOutcome {
  readonly status: number;
  readonly error?: unknown;
}

export class RequestMetrics implements RequestTelemetry {
  readonly traceId = undefined;
  readonly #metrics: Metrics;
  readonly #listener: ListenerName;
  readonly #now: () => number;
  readonly #started: number;
  #requested: string | undefined;
  #model: string | undefined;
  #variant: string | undefined;
  /** Time inside upstream attempts (each until its answer or first result), or the batches that carried the request. */
  #upstreamMs = 0;
  /** When an attempt produced the answer or first result. */
  #answeredAt: number | undefined;
  #firstTokenAt: number | undefined;
  #lastTokenAt = 0;
  #active: LlmSeries | undefined;
  #durationMs: number | undefined;

  constructor(metrics: Metrics, listener: ListenerName, now: () => number = () => performance.now()) {
    this.#metrics = metrics;
    this.#listener = listener;
    this.#now = now;
    this.#started = now();
    metrics.inFlight(listener).inc();
  }

  /** The model the client asked for (before routing; the label of requests that fail before it). */
  get model(): string | undefined {
    return this.#model ?? this.#requested;
  }

  get variant(): string | undefined {
    return this.#variant;
  }

  /** Set once the request has ended. */
  get durationMs(): number | undefined {
    return this.#durationMs;
  }

  requested(model: string): void {
    this.#requested ??= model;
  }

  routed(model: string, variant: string): void {
    this.#model = model;
    this.#variant = variant;
  }

  attempt(_info: AttemptInfo): AttemptTelemetry {
    const started = this.#now();
    let ended = false;
    return {
      inject: () => {},
      end: (error?: unknown) => {
        if (ended) return;
        ended = true;
        const now = this.#now();
        if (error === undefined) this.#answeredAt ??= now;
        this.addUpstreamMs(now - started);
      },
    };
  }

  /** Upstream time spent on the request's behalf outside its own attempts (a merged batch). */
  addUpstreamMs(ms: number): void {
    if (this.#durationMs === undefined) this.#upstreamMs += ms;
  }

  firstToken(): void {
    if (this.#firstTokenAt !== undefined || this.#durationMs !== undefined) return;
    const now = this.#now();
    this.#firstTokenAt = now;
    this.#lastTokenAt = now;
    // V2 streams (kserve-grpc) mark their first response for the overhead only: they are not LLM series.
    if (this.#listener !== 'openai') return;
    const llm = this.#llm();
    llm.timeToFirstToken.observe((now - this.#started) / 1000);
    llm.streamsActive.inc();
    this.#active = llm;
  }

  token(): void {
    if (this.#firstTokenAt === undefined) {
      this.firstToken();
      return;
    }
    if (this.#durationMs !== undefined) return;
    const now = this.#now();
    if (this.#listener === 'openai') this.#llm().interTokenLatency.observe((now - this.#lastTokenAt) / 1000);
    this.#lastTokenAt = now;
  }

  usage(promptTokens: number, completionTokens: number): void {
    const llm = this.#llm();
    llm.promptTokens.inc(promptTokens);
    llm.completionTokens.inc(completionTokens);
  }

  end(outcome: RequestOutcome): void {
    if (this.#durationMs !== undefined) return;
    const now = this.#now();
    const durationMs = now - this.#started;
    this.#durationMs = durationMs;
    const metrics = this.#metrics;
    const model = metrics.modelLabel(this.model);
    const variant = metrics.variantLabel(model, this.#variant);
    const series = metrics.requestSeries(this.#listener, model, variant, statusClass(effectiveStatus(outcome)));
    series.total.inc();
    series.duration.observe(durationMs / 1000);
    // Unary: all but the upstream time. Streams: the time before the first result that is not the
    // upstream's; the wait from the first result to the first token (a relayed stream's headers to its
    // first byte) is the upstream's too, and what follows the first token is streaming, not overhead.
    const until = this.#firstTokenAt === undefined ? now : Math.min(this.#firstTokenAt, this.#answeredAt ?? this.#firstTokenAt);
    const routerMs = until - this.#started - this.#upstreamMs;
    metrics.overhead(this.#listener).observe(Math.max(0, routerMs) / 1000);
    metrics.inFlight(this.#listener).dec();
    this.#active?.streamsActive.dec();
    const reason = outcome.error instanceof SwitchyardError ? REJECTIONS[outcome.error.code] : undefined;
    if (reason !== undefined) metrics.rejected(reason);
  }

  #llm(): LlmSeries {
    return this.#metrics.llm(this.#metrics.modelLabel(this.model));
  }
}

/**
 * The status a request is counted under: the one sent, except that a response that went out as a
 * success and then failed (an SSE error event mid-stream) counts under its error's status.
 */
export function effectiveStatus(outcome: RequestOutcome): number {
  if (outcome.status >= 400 || outcome.error === undefined) return outcome.status;
  return outcome.error instanceof SwitchyardError ? outcome.error.httpStatus : 500;
}

// What every upstream call carries from the listener down: who asked, until when, how to stop,
// what routing may key on, where routing reports what it chose, and where telemetry is recorded.
import type { AttemptTelemetry, RequestTelemetry } from '../telemetry/request-telemetry.js';

/** Request facts routing may key on (header rules, sticky keys, hash pickers, prefix affinity). */
export interface RoutingFacts {
  /** Request headers, names lower-case (as Node gives them). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** OpenAI `user` field, when the request had one. */
  readonly user?: string;
  /** The leading text of an LLM prompt (system prompt first), for prefix affinity. */
  readonly promptPrefix?: string;
}

/** Filled in by routing as it decides, read by the listener for response headers and logs. */
export interface RouteReport {
  variant?: string;
  endpoint?: string;
  attempts?: number;
}

export interface CallContext {
  /** The router's request id (x-request-id), sent upstream as metadata for correlation. */
  readonly requestId: string;
  /** Absolute deadline, epoch milliseconds; becomes the gRPC deadline of every upstream call. */
  readonly deadline: number;
  /** Aborted when the client goes away; upstream calls are cancelled at once. */
  readonly signal: AbortSignal;
  readonly facts?: RoutingFacts;
  readonly report?: RouteReport;
  /**
   * The tenant whose API key admitted the request (its configured name, never the key); absent when
   * auth is off. Admission has already applied the tenant's model list and limits — layers below
   * only pass it on (backends know nothing of tenants).
   */
  readonly tenant?: string;
  /** Metrics, trace spans and the access log of this request (absent for internal calls). */
  readonly telemetry?: RequestTelemetry;
  /**
   * The upstream attempt this call is: set by the cluster on the context it hands the backend (a
   * merged batch's BatchTelemetry has the same shape), absent otherwise. Backends put its
   * `inject` (W3C `traceparent`/`tracestate`) into the call's gRPC metadata or HTTP headers.
   */
  readonly attempt?: AttemptTelemetry;
}

/** A child context whose deadline is the earlier of the parent's and now + timeoutMs. */
export function withTimeout(ctx: CallContext, timeoutMs: number): CallContext {
  const deadline = Math.min(ctx.deadline, Date.now() + timeoutMs);
  return deadline === ctx.deadline ? ctx : { ...ctx, deadline };
}

/** The first value of a header, or undefined. */
export function headerValue(facts: RoutingFacts | undefined, name: string): string | undefined {
  const value = facts?.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// The call context of one gRPC call: the client's deadline (`grpc-timeout`), cancellation when the
// client cancels or its deadline passes, routing facts from metadata, the request id, the request's
// telemetry (inference calls), and the response metadata that tells the client its request id, the
// variant routing chose and (admitted inference calls) the tenant's x-ratelimit-* values.
import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import type { CallContext, RouteReport } from '../../core/call-context.js';
import type { RouterTelemetry, ServedRequestTelemetry } from '../../telemetry/create-telemetry.js';
import { metadataFacts } from './metadata-facts.js';
import { requestIdFrom } from './request-id.js';

/** What the scope needs of a grpc-js server call (unary or streaming). */
export type SurfaceCall = Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'cancelled' | 'getDeadline' | 'once'>;

/** An inference call's telemetry: where to open it, and the span name (`inference.GRPCInferenceService/ModelInfer`). */
export interface ObservedCall {
  readonly telemetry: RouterTelemetry;
  readonly operation: string;
}

export class GrpcCallScope {
  readonly ctx: CallContext & { readonly report: RouteReport; readonly telemetry?: ServedRequestTelemetry };
  readonly #controller = new AbortController();
  readonly #extra = new Map<string, string>();
  #answered = false;

  /** `maxMs` caps the deadline (control calls must never hang a probe); `observed` opens the call's telemetry. */
  constructor(call: SurfaceCall, maxMs?: number, observed?: ObservedCall) {
    const deadline = Math.min(callDeadline(call), maxMs === undefined ? Number.MAX_SAFE_INTEGER : Date.now() + maxMs);
    const requestId = requestIdFrom(call.metadata);
    const facts = metadataFacts(call.metadata);
    const report: RouteReport = {};
    const telemetry = observed?.telemetry.request('kserve-grpc', facts.headers, { requestId, report, operation: observed.operation });
    this.ctx = {
      requestId,
      deadline,
      signal: this.#controller.signal,
      facts,
      report,
      ...(telemetry === undefined ? {} : { telemetry }),
    };
    // grpc-js also reports 'cancelled' when a call closes after its answer; only an abort before
    // the answer is a client that left (or whose deadline passed).
    call.once('cancelled', () => {
      if (!this.#answered) this.#controller.abort();
    });
    if (call.cancelled) this.#controller.abort();
  }

  /** Called right before the answer (or error) is sent. */
  answered(): void {
    this.#answered = true;
  }

  /** More response metadata (lower-case keys): the admitted request's x-ratelimit-* values. */
  addResponseMetadata(values: Readonly<Record<string, string>>): void {
    for (const [key, value] of Object.entries(values)) this.#extra.set(key, value);
  }

  /** `x-request-id`, `x-switchyard-variant` once routing chose one, and what addResponseMetadata added. */
  responseMetadata(): Metadata {
    const metadata = new Metadata();
    metadata.set('x-request-id', this.ctx.requestId);
    if (this.ctx.report.variant !== undefined) metadata.set('x-switchyard-variant', this.ctx.report.variant);
    for (const [key, value] of this.#extra) metadata.set(key, value);
    return metadata;
  }
}

/** The client's deadline as epoch ms (no deadline → none). */
export function callDeadline(call: Pick<SurfaceCall, 'getDeadline'>): number {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : Number.MAX_SAFE_INTEGER;
}

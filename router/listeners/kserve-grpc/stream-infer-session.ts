// One client ModelStreamInfer call. Each request on it is admitted, validated and routed on its own
// (its own upstream stream: its own variant, endpoint and cancellation); responses are written back
// as they come, the client's `id` kept for correlation. The call ends OK once the client has
// half-closed and every request's last response went out; a client cancel (or its deadline)
// cancels every upstream call. Errors are in-band `error_message` responses and the stream stays
// open — or, when the client sent metadata `triton_grpc_error: true`, the first error ends the
// stream with its status, as Triton does. With auth on, the call's key is checked once when the
// call opens (a missing or unknown key ends it with UNAUTHENTICATED before any request is read);
// each request is then checked against the tenant's models and limits like a ModelInfer.
import { Metadata, type ServerDuplexStream } from '@grpc/grpc-js';
import type { FastifyBaseLogger } from 'fastify';
import type { AdmittedRequest } from '../../admission/admitted-request.js';
import type { InFlightLimit } from '../../admission/in-flight-limit.js';
import { ANONYMOUS, type Identity, type TenantAdmission } from '../../admission/tenant-admission.js';
import type { CallContext, RouteReport, RoutingFacts } from '../../core/call-context.js';
import { asSwitchyardError, httpStatusFor, type SwitchyardError } from '../../core/errors.js';
import type { ModelInferRequest__Output } from '../../generated/inference/ModelInferRequest.js';
import type { ModelStreamInferResponse } from '../../generated/inference/ModelStreamInferResponse.js';
import type { ModelRouter } from '../../routing/model-router.js';
import { NO_TELEMETRY, type RouterTelemetry, type ServedRequestTelemetry } from '../../telemetry/create-telemetry.js';
import { withTraceLogs } from '../../telemetry/trace-log-context.js';
import { callDeadline } from './grpc-call-scope.js';
import { grpcError } from './grpc-error.js';
import { metadataFacts } from './metadata-facts.js';
import { rawInferRequest, type GrpcInferLimits } from './raw-infer-request.js';
import { requestIdFrom } from './request-id.js';

export type StreamInferCall = ServerDuplexStream<ModelInferRequest__Output, ModelStreamInferResponse>;

/** How one request on the stream ended, for its telemetry: the canonical code's HTTP status. */
interface Outcome {
  readonly status: number;
  readonly error?: SwitchyardError;
}

const CLIENT_GONE: Outcome = { status: httpStatusFor('CANCELLED') };

export interface StreamInferOptions {
  readonly router: ModelRouter;
  readonly admission: InFlightLimit;
  readonly limits: GrpcInferLimits;
  readonly logger: FastifyBaseLogger;
  /** Each request on the stream gets its own (metrics, trace, access log). */
  readonly telemetry?: RouterTelemetry;
  /** API keys, tenants and their limits (absent: anonymous and unlimited). */
  readonly tenantAdmission?: TenantAdmission | undefined;
}

export class StreamInferSession {
  readonly #call: StreamInferCall;
  readonly #options: StreamInferOptions;
  readonly #onClosed: () => void;
  readonly #requestId: string;
  readonly #deadline: number;
  readonly #facts: RoutingFacts;
  readonly #grpcErrorMode: boolean;
  readonly #identity: Identity;
  /** One per request in flight; all aborted when the call goes away. */
  readonly #controllers = new Set<AbortController>();
  readonly #variants = new Set<string>();
  #outstanding = 0;
  #halfClosed = false;
  #draining = false;
  #closed = false;
  /** Set while the client is not reading fast enough: writers wait for it (back-pressure upstream). */
  #drained: Promise<void> | undefined;
  #wakeWriters: (() => void) | undefined;

  constructor(call: StreamInferCall, options: StreamInferOptions, onClosed: () => void) {
    this.#call = call;
    this.#options = options;
    this.#onClosed = onClosed;
    this.#requestId = requestIdFrom(call.metadata);
    this.#deadline = callDeadline(call);
    this.#facts = metadataFacts(call.metadata);
    this.#grpcErrorMode = call.metadata.get('triton_grpc_error').some((v) => String(v).toLowerCase() === 'true');
    let refused: SwitchyardError | undefined;
    let identity = ANONYMOUS;
    try {
      identity = options.tenantAdmission?.authenticate('kserve-grpc', this.#facts.headers) ?? ANONYMOUS;
    } catch (err) {
      refused = asSwitchyardError(err);
    }
    this.#identity = identity;

    const initial = new Metadata();
    initial.set('x-request-id', this.#requestId);
    call.sendMetadata(initial);
    if (refused !== undefined) {
      // No key, no stream: the call ends with its status at once, whatever triton_grpc_error says.
      this.#options.logger.debug({ code: refused.code, requestId: this.#requestId, method: 'ModelStreamInfer' }, refused.message);
      // Closed before it was ever registered (the listener keeps only open sessions): no onClosed.
      this.#closed = true;
      call.emit('error', grpcError(refused));
      return;
    }
    // Also fired after a normal end; only a call still open was really cancelled.
    call.once('cancelled', () => this.#close());
    call.on('data', (req: ModelInferRequest__Output) => {
      if (this.#closed) return;
      this.#outstanding++;
      void this.#handle(req).finally(() => {
        this.#outstanding--;
        this.#maybeEnd();
      });
    });
    call.on('end', () => {
      this.#halfClosed = true;
      this.#maybeEnd();
    });
    if (call.cancelled) this.#close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Shutdown: the call ends as soon as its requests in flight are answered, half-closed or not. */
  drain(): void {
    this.#draining = true;
    this.#maybeEnd();
  }

  /** One request on the stream: its own telemetry, ended once its last response (or its error) went out. */
  async #handle(req: ModelInferRequest__Output): Promise<void> {
    const report: RouteReport = {};
    const telemetry = (this.#options.telemetry ?? NO_TELEMETRY).request('kserve-grpc', this.#facts.headers, {
      requestId: this.#requestId,
      report,
      operation: 'inference.GRPCInferenceService/ModelStreamInfer',
    });
    telemetry.requested(req.model_name);
    if (this.#identity.tenant !== undefined) telemetry.tenant(this.#identity.tenant.name);
    let outcome: Outcome = { status: httpStatusFor('INTERNAL') };
    try {
      outcome = await withTraceLogs(telemetry, () => this.#serve(req, { report, telemetry }));
    } finally {
      telemetry.end(outcome);
    }
  }

  /** Answers one request; never throws. A request whose client went away ends as CANCELLED (499). */
  async #serve(req: ModelInferRequest__Output, observed: { readonly report: RouteReport; readonly telemetry: ServedRequestTelemetry }): Promise<Outcome> {
    const { router, admission, limits } = this.#options;
    const tenants = this.#options.tenantAdmission;
    const tenant = this.#identity.tenant?.name;
    const controller = new AbortController();
    this.#controllers.add(controller);
    const ctx: CallContext & { report: RouteReport } = {
      requestId: this.#requestId,
      deadline: this.#deadline,
      signal: controller.signal,
      facts: this.#facts,
      report: observed.report,
      telemetry: observed.telemetry,
      ...(tenant === undefined ? {} : { tenant }),
    };
    let release: (() => void) | undefined;
    let admitted: AdmittedRequest | undefined;
    let succeeded = false;
    try {
      tenants?.authorizeModel(this.#identity, req.model_name);
      const route = router.route(req.model_name); // unknown model → NOT_FOUND before any tensor work
      release = admission.acquire();
      admitted = await tenants?.admit(this.#identity, req.model_name, { timeoutMs: route.timeoutMs });
      const responses = await router.streamInfer(rawInferRequest(req, limits), ctx);
      let first = true;
      for await (const message of responses) {
        if (this.#closed) return CLIENT_GONE; // leaving the loop cancels the upstream call
        if (first) {
          first = false;
          observed.telemetry.firstToken();
        }
        await this.#write(message);
      }
      succeeded = true;
      return { status: 200 };
    } catch (err) {
      const error = asSwitchyardError(err);
      if (this.#closed) return CLIENT_GONE;
      await this.#fail(req, error);
      return { status: httpStatusFor(error.canonical), error };
    } finally {
      if (ctx.report.variant !== undefined) this.#variants.add(ctx.report.variant);
      this.#controllers.delete(controller);
      // Charged before the request's telemetry ends (in #handle), so the access line carries it.
      if (admitted !== undefined) observed.telemetry.charge(admitted.finish(succeeded));
      release?.();
    }
  }

  async #write(message: ModelStreamInferResponse): Promise<void> {
    await this.#drained;
    if (this.#closed) return;
    if (this.#call.write(message)) return;
    this.#drained ??= new Promise<void>((resolve) => {
      this.#wakeWriters = resolve;
      this.#call.once('drain', () => this.#wake());
    });
  }

  #wake(): void {
    this.#wakeWriters?.();
    this.#wakeWriters = undefined;
    this.#drained = undefined;
  }

  async #fail(req: ModelInferRequest__Output, error: SwitchyardError): Promise<void> {
    const fields = { code: error.code, requestId: this.#requestId, id: req.id, model: req.model_name, method: 'ModelStreamInfer' };
    if (error.httpStatus >= 500) this.#options.logger.error({ ...fields, err: error, cause: error.cause }, error.message);
    else this.#options.logger.debug(fields, error.message);
    const mapped = grpcError(error);
    if (this.#grpcErrorMode) {
      const trailers = this.#trailers();
      trailers.merge(mapped.metadata);
      this.#close();
      this.#call.emit('error', { ...mapped, metadata: trailers });
      return;
    }
    // Triton's in-band shape: the message, the request's id (and what it asked for), marked final.
    await this.#write({
      error_message: mapped.details,
      infer_response: {
        id: req.id,
        model_name: req.model_name,
        model_version: req.model_version,
        parameters: { triton_final_response: { bool_param: true } },
      },
    });
  }

  #maybeEnd(): void {
    if (this.#closed || this.#outstanding > 0 || !(this.#halfClosed || this.#draining)) return;
    const trailers = this.#trailers();
    this.#close();
    this.#call.end(trailers);
  }

  /** The variants that answered this call's requests, one value each. */
  #trailers(): Metadata {
    const trailers = new Metadata();
    for (const variant of this.#variants) trailers.add('x-switchyard-variant', variant);
    return trailers;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const controller of this.#controllers) controller.abort();
    this.#controllers.clear();
    this.#wake();
    this.#onClosed();
  }
}

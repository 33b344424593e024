// A grpc-js unary handler from an async function: every call gets its scope (deadline,
// cancellation, facts, request id, and for inference calls its telemetry, ended once with the
// answer), is authenticated by its API key when auth is on (metadata `authorization: Bearer …` or
// the configured header), the response metadata goes out with the answer, and every failure is
// mapped once, by grpc-error.ts.
import type { handleUnaryCall } from '@grpc/grpc-js';
import type { FastifyBaseLogger } from 'fastify';
import type { AdmittedRequest } from '../../admission/admitted-request.js';
import { ANONYMOUS, type Identity, type TenantAdmission } from '../../admission/tenant-admission.js';
import type { CallContext } from '../../core/call-context.js';
import { asSwitchyardError, httpStatusFor } from '../../core/errors.js';
import type { RouterTelemetry } from '../../telemetry/create-telemetry.js';
import { withTraceLogs } from '../../telemetry/trace-log-context.js';
import { GrpcCallScope } from './grpc-call-scope.js';
import { grpcError } from './grpc-error.js';

export interface UnaryHandlerOptions<Req> {
  readonly logger: FastifyBaseLogger;
  /** Caps the call's deadline: control calls (metadata, readiness) must never hang a probe. */
  readonly maxMs?: number;
  /** Inference calls: their telemetry (metrics, trace, access log), the RPC's name, and the model a request names. */
  readonly observe?: {
    readonly telemetry: RouterTelemetry;
    readonly rpc: string;
    readonly model: (request: Req) => string;
  };
  /** API keys (absent: every call is anonymous). */
  readonly tenantAdmission?: TenantAdmission | undefined;
}

/** What a handler knows of its call besides the request and context. */
export interface UnaryCall {
  /** Who the call is (its key's tenant), after authentication. */
  readonly identity: Identity;
  /**
   * An admitted inference call: its x-ratelimit-* go out with the answer; call the returned function
   * once the answer is decided, so the tenant is charged before the call's telemetry ends.
   */
  meter(admitted: AdmittedRequest): (succeeded: boolean) => void;
}

export function unaryHandler<Req, Res>(
  options: UnaryHandlerOptions<Req>,
  run: (request: Req, ctx: CallContext, call: UnaryCall) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  const { observe } = options;
  const observed = observe === undefined ? undefined : { telemetry: observe.telemetry, operation: `inference.GRPCInferenceService/${observe.rpc}` };
  return (call, callback) => {
    const scope = new GrpcCallScope(call, options.maxMs, observed);
    const telemetry = scope.ctx.telemetry;
    const answer = (): Promise<Res> => {
      if (telemetry !== undefined && observe !== undefined) telemetry.requested(observe.model(call.request));
      const identity = options.tenantAdmission?.authenticate('kserve-grpc', scope.ctx.facts?.headers ?? {}) ?? ANONYMOUS;
      const tenant = identity.tenant?.name;
      if (tenant !== undefined) telemetry?.tenant(tenant);
      const ctx = tenant === undefined ? scope.ctx : { ...scope.ctx, tenant };
      return run(call.request, ctx, {
        identity,
        meter: (admitted) => {
          scope.addResponseMetadata(admitted.headers);
          return (succeeded) => {
            const charge = admitted.finish(succeeded);
            telemetry?.charge(charge);
          };
        },
      });
    };
    Promise.resolve()
      .then(() => (telemetry === undefined ? answer() : withTraceLogs(telemetry, answer)))
      .then(
        (response) => {
          scope.answered();
          call.sendMetadata(scope.responseMetadata());
          callback(null, response);
          telemetry?.end({ status: 200 });
        },
        (err: unknown) => {
          scope.answered();
          const error = asSwitchyardError(err);
          const fields = { code: error.code, requestId: scope.ctx.requestId, traceId: telemetry?.traceId, method: call.getPath() };
          if (error.httpStatus >= 500) options.logger.error({ ...fields, err: error, cause: error.cause }, error.message);
          else options.logger.debug(fields, error.message);
          call.sendMetadata(scope.responseMetadata());
          callback(grpcError(error));
          // gRPC has no HTTP status: the canonical code's (google/rpc/code.proto) classifies it.
          telemetry?.end({ status: httpStatusFor(error.canonical), error });
        },
      );
  };
}

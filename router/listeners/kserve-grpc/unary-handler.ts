// A grpc-js unary handler from an async function: every call gets its scope (deadline,
// cancellation, facts, request id), the response metadata goes out with the answer, and every
// failure is mapped once, by grpc-error.ts.
import type { handleUnaryCall } from '@grpc/grpc-js';
import type { FastifyBaseLogger } from 'fastify';
import type { CallContext } from '../../core/call-context.js';
import { asSwitchyardError } from '../../core/errors.js';
import { GrpcCallScope } from './grpc-call-scope.js';
import { grpcError } from './grpc-error.js';

export interface UnaryHandlerOptions {
  readonly logger: FastifyBaseLogger;
  /** Caps the call's deadline: control calls (metadata, readiness) must never hang a probe. */
  readonly maxMs?: number;
}

export function unaryHandler<Req, Res>(options: UnaryHandlerOptions, run: (request: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const scope = new GrpcCallScope(call, options.maxMs);
    Promise.resolve()
      .then(() => run(call.request, scope.ctx))
      .then(
        (response) => {
          scope.answered();
          call.sendMetadata(scope.responseMetadata());
          callback(null, response);
        },
        (err: unknown) => {
          scope.answered();
          const error = asSwitchyardError(err);
          if (error.httpStatus >= 500) options.logger.error({ err: error, cause: error.cause, code: error.code, requestId: scope.ctx.requestId, method: call.getPath() }, error.message);
          else options.logger.debug({ code: error.code, requestId: scope.ctx.requestId, method: call.getPath() }, error.message);
          call.sendMetadata(scope.responseMetadata());
          callback(grpcError(error));
        },
      );
  };
}

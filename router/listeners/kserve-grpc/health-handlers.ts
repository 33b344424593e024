// grpc.health.v1.Health on the client gRPC port. Check: "" (and the inference service's name) →
// SERVING when the router's readiness is ready (every configured model has a ready endpoint),
// NOT_SERVING otherwise; a model name → that model's readiness; anything else → NOT_FOUND. With auth
// on, Check needs a key too (orchestrator probes belong on the admin port's /healthz and /readyz).
// Watch is UNIMPLEMENTED (as in Triton, whose health.proto has only Check): readiness is asked of
// the fleet on demand, there is no change feed to stream from, so clients poll Check.
import type { FastifyBaseLogger } from 'fastify';
import type { TenantAdmission } from '../../admission/tenant-admission.js';
import { SwitchyardError } from '../../core/errors.js';
import type { HealthHandlers } from '../../generated/grpc/health/v1/Health.js';
import type { HealthCheckRequest__Output } from '../../generated/grpc/health/v1/HealthCheckRequest.js';
import type { HealthCheckResponse } from '../../generated/grpc/health/v1/HealthCheckResponse.js';
import type { ModelRouter } from '../../routing/model-router.js';
import { grpcError } from './grpc-error.js';
import { unaryHandler } from './unary-handler.js';

export const INFERENCE_SERVICE = 'inference.GRPCInferenceService';

export interface HealthOptions {
  readonly router: ModelRouter;
  readonly logger: FastifyBaseLogger;
  readonly controlDeadlineMs: number;
  readonly tenantAdmission?: TenantAdmission | undefined;
}

export function healthHandlers(options: HealthOptions): HealthHandlers {
  const { router } = options;
  return {
    Check: unaryHandler<HealthCheckRequest__Output, HealthCheckResponse>(
      { logger: options.logger, maxMs: options.controlDeadlineMs, tenantAdmission: options.tenantAdmission },
      async ({ service }, ctx, call) => {
        if (service === '' || service === INFERENCE_SERVICE) {
          return { status: (await router.readiness(ctx)).ready ? 'SERVING' : 'NOT_SERVING' };
        }
        options.tenantAdmission?.authorizeModel(call.identity, service);
        if (!router.models.includes(service)) {
          throw new SwitchyardError('SWY_ERR_ROUTE_MODEL_NOT_FOUND', `unknown service '${service}': ask for '', '${INFERENCE_SERVICE}' or a configured model name`);
        }
        return { status: (await router.modelReady(service, '', ctx)) ? 'SERVING' : 'NOT_SERVING' };
      },
    ),
    Watch: (call) => {
      const unsupported = new SwitchyardError('SWY_ERR_INPUT_UNSUPPORTED', 'grpc.health.v1.Health/Watch is not offered by Switchyard (no change feed to stream): poll Check instead');
      call.emit('error', grpcError(unsupported));
    },
  };
}

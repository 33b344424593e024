// inference.GRPCInferenceService on the client gRPC port: health, server and model metadata,
// readiness, config and statistics answered from the fleet through the model router (model names
// rewritten, metadata from the heaviest variant — as the REST listener), ModelInfer through the
// same pipeline as REST, and Triton's repository RPCs refused as UNIMPLEMENTED (unoffered-rpcs.ts).
// With auth on, every RPC needs a key, every model RPC checks the key's tenant may use the model,
// and ModelInfer takes its share of the tenant's limits.
import type { FastifyBaseLogger } from 'fastify';
import type { InFlightLimit } from '../../admission/in-flight-limit.js';
import type { Identity, TenantAdmission } from '../../admission/tenant-admission.js';
import type { CallContext } from '../../core/call-context.js';
import { SwitchyardError } from '../../core/errors.js';
import type { GRPCInferenceServiceHandlers } from '../../generated/inference/GRPCInferenceService.js';
import type { ModelStatisticsResponse } from '../../generated/inference/ModelStatisticsResponse.js';
import type { ModelRouter } from '../../routing/model-router.js';
import type { RouterTelemetry } from '../../telemetry/create-telemetry.js';
import { SERVER_EXTENSIONS } from '../kserve/kserve-rest-routes.js';
import { rawInferRequest, type GrpcInferLimits } from './raw-infer-request.js';
import { unaryHandler } from './unary-handler.js';
import { unofferedRpc } from './unoffered-rpcs.js';

export interface InferenceHandlerOptions {
  readonly router: ModelRouter;
  readonly admission: InFlightLimit;
  readonly logger: FastifyBaseLogger;
  readonly serverName: string;
  readonly serverVersion: string;
  readonly limits: GrpcInferLimits;
  readonly controlDeadlineMs: number;
  readonly telemetry: RouterTelemetry;
  readonly tenantAdmission?: TenantAdmission | undefined;
}

/** Every unary RPC of the service; ModelStreamInfer is added by the listener. */
export function inferenceHandlers(options: InferenceHandlerOptions): Omit<GRPCInferenceServiceHandlers, 'ModelStreamInfer'> {
  const { router, admission, logger } = options;
  const tenants = options.tenantAdmission;
  const control = { logger, maxMs: options.controlDeadlineMs, tenantAdmission: tenants };
  /** PERMISSION_DENIED (or the unknown-model NOT_FOUND) for a model the key's tenant may not use. */
  const authorize = (identity: Identity, model: string): void => tenants?.authorizeModel(identity, model);

  return {
    ServerLive: unaryHandler(control, async () => ({ live: true })),
    ServerReady: unaryHandler(control, async (_req, ctx) => ({ ready: (await router.readiness(ctx)).ready })),
    ServerMetadata: unaryHandler(control, async () => ({ name: options.serverName, version: options.serverVersion, extensions: SERVER_EXTENSIONS })),
    ModelReady: unaryHandler(control, async (req, ctx, call) => {
      authorize(call.identity, req.name);
      router.route(req.name); // unknown model → NOT_FOUND, not "not ready"
      return { ready: await router.modelReady(req.name, req.version, ctx) };
    }),
    ModelMetadata: unaryHandler(control, async (req, ctx, call) => {
      authorize(call.identity, req.name);
      return router.modelMetadata(req.name, req.version, ctx);
    }),
    ModelConfig: unaryHandler(control, async (req, ctx, call) => {
      authorize(call.identity, req.name);
      return router.modelConfig(req.name, req.version, ctx);
    }),
    ModelStatistics: unaryHandler(control, async (req, ctx, call) => {
      if (req.name === '') return allStatistics(router, tenants?.visibleModels(call.identity, router.models) ?? router.models, ctx);
      authorize(call.identity, req.name);
      return router.modelStatistics(req.name, req.version, ctx);
    }),
    ModelInfer: unaryHandler(
      { logger, observe: { telemetry: options.telemetry, rpc: 'ModelInfer', model: (req) => req.model_name }, tenantAdmission: tenants },
      async (req, ctx, call) => {
        authorize(call.identity, req.model_name);
        const route = router.route(req.model_name); // unknown model → NOT_FOUND before any tensor work
        const release = admission.acquire();
        let charge: ((succeeded: boolean) => void) | undefined;
        let succeeded = false;
        try {
          if (tenants !== undefined) charge = call.meter(await tenants.admit(call.identity, req.model_name, { timeoutMs: route.timeoutMs }));
          const response = await router.infer(rawInferRequest(req, options.limits), ctx);
          succeeded = true;
          return response;
        } finally {
          charge?.(succeeded);
          release();
        }
      },
    ),
    RepositoryIndex: unofferedRpc('RepositoryIndex', logger),
    RepositoryModelLoad: unofferedRpc('RepositoryModelLoad', logger),
    RepositoryModelUnload: unofferedRpc('RepositoryModelUnload', logger),
  };
}

/**
 * Triton's "empty name = every model": each configured model's statistics (those the key's tenant may see). Models whose cluster
 * does not speak KServe (openai-http) have none and are left out; any other failure fails the call.
 */
async function allStatistics(router: ModelRouter, models: readonly string[], ctx: CallContext): Promise<ModelStatisticsResponse> {
  const answers = await Promise.allSettled(models.map((m) => router.modelStatistics(m, '', ctx)));
  const modelStats = [];
  for (const answer of answers) {
    if (answer.status === 'fulfilled') modelStats.push(...answer.value.model_stats);
    else if (!(answer.reason instanceof SwitchyardError && answer.reason.code === 'SWY_ERR_INPUT_UNSUPPORTED')) throw answer.reason;
  }
  return { model_stats: modelStats };
}

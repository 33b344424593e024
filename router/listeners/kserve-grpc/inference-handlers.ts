// inference.GRPCInferenceService on the client gRPC port: health, server and model metadata,
// readiness, config and statistics answered from the fleet through the model router (model names
// rewritten, metadata from the heaviest variant — as the REST listener), ModelInfer through the
// same pipeline as REST, and Triton's repository RPCs refused as UNIMPLEMENTED (unoffered-rpcs.ts).
import type { FastifyBaseLogger } from 'fastify';
import type { InFlightLimit } from '../../admission/in-flight-limit.js';
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
}

/** Every unary RPC of the service; ModelStreamInfer is added by the listener. */
export function inferenceHandlers(options: InferenceHandlerOptions): Omit<GRPCInferenceServiceHandlers, 'ModelStreamInfer'> {
  const { router, admission, logger } = options;
  const control = { logger, maxMs: options.controlDeadlineMs };

  return {
    ServerLive: unaryHandler(control, async () => ({ live: true })),
    ServerReady: unaryHandler(control, async (_req, ctx) => ({ ready: (await router.readiness(ctx)).ready })),
    ServerMetadata: unaryHandler(control, async () => ({ name: options.serverName, version: options.serverVersion, extensions: SERVER_EXTENSIONS })),
    ModelReady: unaryHandler(control, async (req, ctx) => {
      router.route(req.name); // unknown model → NOT_FOUND, not "not ready"
      return { ready: await router.modelReady(req.name, req.version, ctx) };
    }),
    ModelMetadata: unaryHandler(control, (req, ctx) => router.modelMetadata(req.name, req.version, ctx)),
    ModelConfig: unaryHandler(control, (req, ctx) => router.modelConfig(req.name, req.version, ctx)),
    ModelStatistics: unaryHandler(control, (req, ctx) => (req.name === '' ? allStatistics(router, ctx) : router.modelStatistics(req.name, req.version, ctx))),
    ModelInfer: unaryHandler({ logger, observe: { telemetry: options.telemetry, rpc: 'ModelInfer', model: (req) => req.model_name } }, async (req, ctx) => {
      router.route(req.model_name); // unknown model → NOT_FOUND before any tensor work
      const release = admission.acquire();
      try {
        return await router.infer(rawInferRequest(req, options.limits), ctx);
      } finally {
        release();
      }
    }),
    RepositoryIndex: unofferedRpc('RepositoryIndex', logger),
    RepositoryModelLoad: unofferedRpc('RepositoryModelLoad', logger),
    RepositoryModelUnload: unofferedRpc('RepositoryModelUnload', logger),
  };
}

/**
 * Triton's "empty name = every model": each configured model's statistics. Models whose cluster
 * does not speak KServe (openai-http) have none and are left out; any other failure fails the call.
 */
async function allStatistics(router: ModelRouter, ctx: CallContext): Promise<ModelStatisticsResponse> {
  const answers = await Promise.allSettled(router.models.map((m) => router.modelStatistics(m, '', ctx)));
  const modelStats = [];
  for (const answer of answers) {
    if (answer.status === 'fulfilled') modelStats.push(...answer.value.model_stats);
    else if (!(answer.reason instanceof SwitchyardError && answer.reason.code === 'SWY_ERR_INPUT_UNSUPPORTED')) throw answer.reason;
  }
  return { model_stats: modelStats };
}

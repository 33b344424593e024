// The KServe V2 REST listener protocol: health, server and model metadata, readiness, config,
// statistics and inference under /v2, answered from the fleet through the model router. With auth
// on, every model route checks the key's tenant may use the model; inference also takes its share
// of the tenant's limits.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InFlightLimit } from '../../admission/in-flight-limit.js';
import type { TenantAdmission } from '../../admission/tenant-admission.js';
import type { CallContext } from '../../core/call-context.js';
import { reportRoute, requestContext } from '../request-context.js';
import { SwitchyardError } from '../../core/errors.js';
import type { ModelRouter } from '../../routing/model-router.js';
import { NO_TELEMETRY, type RouterTelemetry } from '../../telemetry/create-telemetry.js';
import { withTraceLogs } from '../../telemetry/trace-log-context.js';
import { authenticateObserved, identityOf, meterHttp } from '../http-admission.js';
import { observed, observeHttp } from '../http-request-telemetry.js';
import { decodeRestInfer } from './rest-infer-request.js';
import { encodeRestInferResponse } from './rest-infer-response.js';
import { configToJson, metadataToJson, statisticsToJson } from './triton-json.js';

export interface KserveRestOptions {
  readonly router: ModelRouter;
  readonly admission: InFlightLimit;
  readonly serverName: string;
  readonly serverVersion: string;
  readonly maxTensorElements: number;
  /** Metrics, traces and the access log of inference requests. */
  readonly telemetry?: RouterTelemetry;
  /** API keys, tenants and their limits (absent: everyone is anonymous and unlimited). */
  readonly tenantAdmission?: TenantAdmission;
}

interface ModelParams {
  model: string;
  version?: string;
}

/** Metadata and readiness probes get a short deadline: they must never hang a load balancer. */
const CONTROL_DEADLINE_MS = 5_000;

export const SERVER_EXTENSIONS = ['binary_tensor_data', 'model_configuration', 'statistics', 'parameters'];

export function kserveRestRoutes(app: FastifyInstance, options: KserveRestOptions): void {
  const { router, admission } = options;
  const telemetry = options.telemetry ?? NO_TELEMETRY;
  const tenants = options.tenantAdmission;
  /** 403 (or the unknown-model 404) for a model the key's tenant may not use. */
  const authorize = (req: FastifyRequest, model: string): void => tenants?.authorizeModel(identityOf(req, tenants), model);

  const serverMetadata = async () => ({
    name: options.serverName,
    version: options.serverVersion,
    extensions: SERVER_EXTENSIONS,
  });
  app.get('/v2', serverMetadata);
  app.get('/v2/', serverMetadata);

  app.get('/v2/health/live', async (_req, reply) => reply.code(200).send());
  app.get('/v2/health/ready', async (req, reply) => {
    const { ready } = await router.readiness(controlContext(req, reply));
    // Clients read only the status (Triton's own clients test for 200). Not ready is 503, the
    // canonical UNAVAILABLE, like model readiness below, rather than Triton's 400: a probe or load
    // balancer should see "try later", not "you sent a bad request".
    return reply.code(ready ? 200 : 503).send();
  });

  const withVersion = (path: string) => [`/v2/models/:model${path}`, `/v2/models/:model/versions/:version${path}`];

  for (const path of withVersion('')) {
    app.get<{ Params: ModelParams }>(path, async (req, reply) => {
      const { model, version } = target(req.params);
      authorize(req, model);
      return metadataToJson(await router.modelMetadata(model, version, controlContext(req, reply)));
    });
  }

  for (const path of withVersion('/ready')) {
    app.get<{ Params: ModelParams }>(path, async (req, reply) => {
      const { model, version } = target(req.params);
      authorize(req, model);
      router.route(model); // unknown model → 404, not "not ready"
      const ready = await router.modelReady(model, version, controlContext(req, reply));
      if (ready) return reply.code(200).send();
      throw new SwitchyardError('SWY_ERR_ROUTE_MODEL_NOT_READY', `model '${model}'${version ? ` version ${version}` : ''} is not ready`);
    });
  }

  for (const path of withVersion('/config')) {
    app.get<{ Params: ModelParams }>(path, async (req, reply) => {
      const { model, version } = target(req.params);
      authorize(req, model);
      const { config } = await router.modelConfig(model, version, controlContext(req, reply));
      return configToJson(config);
    });
  }

  for (const path of withVersion('/stats')) {
    app.get<{ Params: ModelParams }>(path, async (req, reply) => {
      const { model, version } = target(req.params);
      authorize(req, model);
      return statisticsToJson(await router.modelStatistics(model, version, controlContext(req, reply)));
    });
  }

  for (const path of withVersion('/infer')) {
    const observe = observeHttp(telemetry, 'kserve-rest', (req) => (req.params as Partial<ModelParams>).model);
    const onRequest = tenants === undefined ? observe : [observe, authenticateObserved(tenants)];
    app.post<{ Params: ModelParams; Body: Buffer }>(path, { onRequest, config: { ownAuthentication: true } }, async (req, reply) => {
      const observation = observed(req);
      return withTraceLogs(observation.telemetry, async () => {
        const { model, version } = target(req.params);
        const identity = identityOf(req, tenants);
        tenants?.authorizeModel(identity, model);
        const route = router.route(model); // unknown model → 404 before any body work
        const release = admission.acquire();
        try {
          // The tenant's limits before the body is decoded: a limited client costs no tensor work.
          if (tenants !== undefined) meterHttp(reply, await tenants.admit(identity, model, { timeoutMs: route.timeoutMs }), observation.telemetry);
          const headerLength = req.headers['inference-header-content-length'];
          const decoded = decodeRestInfer(req.body, Array.isArray(headerLength) ? headerLength[0] : headerLength, { model, version }, options);
          const ctx = requestContext(req, reply, undefined, undefined, observation);
          let response;
          try {
            response = await router.infer(decoded.request, ctx);
          } finally {
            reportRoute(reply, ctx); // errors too: a canary's failures must be told apart
          }
          const encoded = encodeRestInferResponse(response, decoded.binaryOutput);
          if (encoded.headerLength !== undefined) {
            reply.header('inference-header-content-length', String(encoded.headerLength));
            reply.type('application/octet-stream');
          } else {
            reply.type('application/json');
          }
          return reply.send(encoded.body);
        } finally {
          release();
        }
      });
    });
  }
}

function target(params: ModelParams): { model: string; version: string } {
  return { model: params.model, version: params.version ?? '' };
}

function controlContext(req: FastifyRequest, reply: FastifyReply): CallContext {
  return requestContext(req, reply, Date.now() + CONTROL_DEADLINE_MS);
}

// The admin listener (port 8002): liveness and readiness for orchestrators, Prometheus metrics, and
// operator views (mirror comparisons, clusters) — never on client ports. With `auth.admin.keys`,
// every route but /healthz (liveness probes) needs one of those keys as `Authorization: Bearer`;
// without, the listener is open, which is why it binds to loopback by default.
import Fastify, { LogController, type FastifyInstance, type FastifyBaseLogger } from 'fastify';
import type { InFlightLimit } from '../admission/in-flight-limit.js';
import type { TenantAdmission } from '../admission/tenant-admission.js';
import { SwitchyardError } from '../core/errors.js';
import type { ModelRouter } from '../routing/model-router.js';

/** What /metrics serves: the app's registry in the Prometheus text format. */
export interface MetricsSource {
  readonly contentType: string;
  scrape(): Promise<string>;
}

export interface AdminListenerOptions {
  readonly router: ModelRouter;
  readonly admission: InFlightLimit;
  readonly logger: FastifyBaseLogger;
  readonly metrics?: MetricsSource;
  /** Admin keys (read per request, so a reload applies them). */
  readonly tenantAdmission?: TenantAdmission;
  /** The limit state store's connection ('memory', or Redis's state), shown by /readyz. */
  readonly stateStatus?: () => string;
}

const READINESS_DEADLINE_MS = 3_000;

export function buildAdminListener(options: AdminListenerOptions): FastifyInstance {
  const app = Fastify({ loggerInstance: options.logger, forceCloseConnections: true, logController: new LogController({ disableRequestLogging: true }) });

  const keys = options.tenantAdmission;
  if (keys !== undefined) {
    app.addHook('onRequest', async (req, reply) => {
      if (req.url === '/healthz' || req.url.startsWith('/healthz?')) return;
      try {
        keys.authorizeAdmin(req.headers);
      } catch (err) {
        if (!(err instanceof SwitchyardError)) throw err;
        return reply.code(err.httpStatus).headers(err.headers ?? {}).send({ error: err.message });
      }
    });
  }

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (req, reply) => {
    if (options.admission.draining) return reply.code(503).send({ ready: false, draining: true, models: {} });
    const controller = new AbortController();
    reply.raw.once('close', () => controller.abort());
    const readiness = await options.router.readiness({
      requestId: req.id,
      deadline: Date.now() + READINESS_DEADLINE_MS,
      signal: controller.signal,
    });
    const state = options.stateStatus?.();
    return reply.code(readiness.ready ? 200 : 503).send({ ...readiness, inFlight: options.admission.current, ...(state === undefined ? {} : { stateStore: state }) });
  });

  const { metrics } = options;
  if (metrics !== undefined) {
    app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.scrape()));
  }

  // Shadow traffic per model, cumulative since start: copies sent/skipped, outcomes, comparisons, latency sums.
  app.get('/mirror', async () => ({ models: options.router.mirrorStats() }));
  // Which endpoints each cluster has and how they stand: in flight, health checks, outlier ejection.
  app.get('/clusters', async () => options.router.clusterSnapshot());

  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no API at ${req.method} ${req.url.split('?')[0]}` }));
  return app;
}

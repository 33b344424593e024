// Composition root: the only module that reads the whole config and wires the layers together.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { InFlightLimit } from './admission/in-flight-limit.js';
import type { Backend } from './backends/backend.js';
import { OpenAiHttpBackend } from './backends/openai-http/openai-http-backend.js';
import { TritonGrpcBackend } from './backends/triton-grpc/triton-grpc-backend.js';
import { compileChatTemplate } from './adapters/triton-llm/index.js';
import { Cluster } from './clusters/cluster.js';
import type { Config } from './config/schema.js';
import { buildAdminListener } from './listeners/admin-listener.js';
import { buildClientHttpListener } from './listeners/client-http-listener.js';
import { ModelRouter } from './routing/model-router.js';
import { RouteTable } from './routing/route-table.js';

const PACKAGE_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface ListeningAddresses {
  readonly http: AddressInfo;
  readonly admin: AddressInfo;
}

export interface App {
  readonly logger: FastifyBaseLogger;
  listen(): Promise<ListeningAddresses>;
  /** Graceful stop: refuse new work, let in-flight requests finish (up to drainTimeoutMs), close. */
  close(): Promise<void>;
}

export function buildApp(config: Config, logger: FastifyBaseLogger = pino({ level: config.logLevel }) as FastifyBaseLogger): App {
  const backends: Backend[] = [];
  const clusters = new Map<string, Cluster>();
  // Chat templates are compiled now, so a broken one stops the start instead of failing requests.
  for (const [name, model] of Object.entries(config.models)) {
    if (model.llm?.chatTemplate !== undefined) compileChatTemplate(model.llm.chatTemplate, `models.${name}.llm.chatTemplate`);
  }
  for (const [name, cfg] of Object.entries(config.clusters)) {
    const backend = cfg.backend === 'triton-grpc' ? new TritonGrpcBackend({ maxMessageBytes: cfg.maxMessageBytes }) : new OpenAiHttpBackend({ apiKey: cfg.apiKey });
    backends.push(backend);
    clusters.set(name, new Cluster(name, cfg.endpoints, backend));
  }
  const router = new ModelRouter(new RouteTable(config.models), clusters);
  const admission = new InFlightLimit(config.limits.maxInFlight);

  const http = buildClientHttpListener({
    router,
    admission,
    logger,
    serverName: 'switchyard',
    serverVersion: PACKAGE_VERSION,
    maxBodyBytes: config.limits.maxBodyBytes,
    maxTensorElements: config.limits.maxTensorElements,
  });
  const admin = buildAdminListener({ router, admission, logger });

  let closing: Promise<void> | undefined;
  return {
    logger,
    async listen() {
      await http.listen({ host: config.listeners.http.host, port: config.listeners.http.port });
      await admin.listen({ host: config.listeners.admin.host, port: config.listeners.admin.port });
      return { http: address(http), admin: address(admin) };
    },
    close() {
      closing ??= (async () => {
        await admission.drain(config.drainTimeoutMs);
        await Promise.allSettled([http.close(), admin.close()]);
        for (const backend of backends) backend.close();
      })();
      return closing;
    },
  };
}

function address(app: FastifyInstance): AddressInfo {
  return app.server.address() as AddressInfo;
}

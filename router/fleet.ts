// The routing graph one config describes: a backend and a cluster (discovery, health checks,
// outlier detection, picker) per cluster entry, and the route table. Built whole, so hot reload can
// build the next one beside the running one and swap; retired once its in-flight work is done.
import type { FastifyBaseLogger } from 'fastify';
import { compileChatTemplate } from './adapters/triton-llm/index.js';
import type { Backend } from './backends/backend.js';
import { OpenAiHttpBackend } from './backends/openai-http/openai-http-backend.js';
import { TritonGrpcBackend } from './backends/triton-grpc/triton-grpc-backend.js';
import { Cluster } from './clusters/cluster.js';
import type { Config } from './config/schema.js';
import { RouteTable } from './routing/route-table.js';
import type { ClusterTelemetry } from './telemetry/cluster-telemetry.js';

export interface Fleet {
  readonly table: RouteTable;
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** Requests in flight on this fleet's clusters. */
  inFlight(): number;
  /** Stops discovery and health checks and closes upstream connections. */
  close(): void;
}

export interface FleetOptions {
  /** Each cluster's metrics handle, by cluster name. */
  readonly clusterTelemetry?: (cluster: string) => ClusterTelemetry;
}

/** Throws SWY_ERR_CFG_INVALID for what the schema cannot check (a chat template that does not compile). */
export function buildFleet(config: Config, logger: FastifyBaseLogger, options: FleetOptions = {}): Fleet {
  for (const [name, model] of Object.entries(config.models)) {
    if (model.llm?.chatTemplate !== undefined) compileChatTemplate(model.llm.chatTemplate, `models.${name}.llm.chatTemplate`);
  }
  const table = new RouteTable(config.models);
  const backends: Backend[] = [];
  const clusters = new Map<string, Cluster>();
  for (const [name, cfg] of Object.entries(config.clusters)) {
    const backend =
      cfg.backend === 'triton-grpc'
        ? new TritonGrpcBackend({ maxMessageBytes: cfg.maxMessageBytes })
        : new OpenAiHttpBackend({ apiKey: cfg.apiKey });
    backends.push(backend);
    clusters.set(name, new Cluster(name, cfg, backend, logger.child({ cluster: name }), options.clusterTelemetry?.(name)));
  }
  for (const cluster of clusters.values()) cluster.start();
  return {
    table,
    clusters,
    inFlight: () => [...clusters.values()].reduce((sum, c) => sum + c.inFlightTotal, 0),
    close() {
      for (const cluster of clusters.values()) cluster.close();
      for (const backend of backends) backend.close();
    },
  };
}

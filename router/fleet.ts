// The routing graph one config describes: a backend and a cluster (discovery, health checks,
// outlier detection, picker) per cluster entry, and the route table. Built whole, so hot reload can
// build the next one beside the running one and swap; retired once its in-flight work is done.
// A cluster whose settings did not change is carried over from the running fleet, object and all,
// so a reload that only edits routes keeps its health, ejections, retry budget and connections.
import type { FastifyBaseLogger } from 'fastify';
import { compileChatTemplate } from './adapters/triton-llm/index.js';
import { OpenAiHttpBackend } from './backends/openai-http/openai-http-backend.js';
import { TritonGrpcBackend } from './backends/triton-grpc/triton-grpc-backend.js';
import { Cluster } from './clusters/cluster.js';
import type { ClusterConfig, Config } from './config/schema.js';
import { RouteTable } from './routing/route-table.js';
import type { ClusterTelemetry } from './telemetry/cluster-telemetry.js';

export interface Fleet {
  readonly table: RouteTable;
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** Each cluster's settings in a canonical form: equal strings mean a cluster can be carried over. */
  readonly clusterSettings: ReadonlyMap<string, string>;
  /** Requests in flight on this fleet's clusters, except those in `shared` (a newer fleet's too). */
  inFlight(shared?: ReadonlySet<Cluster>): number;
  /** Stops discovery and health checks and closes upstream connections of every cluster not in `shared`. */
  close(shared?: ReadonlySet<Cluster>): void;
}

export interface FleetOptions {
  /** Each cluster's metrics handle, by cluster name. */
  readonly clusterTelemetry?: (cluster: string) => ClusterTelemetry;
}

/** JSON with object keys sorted, so settings written in another order still compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function newCluster(name: string, cfg: ClusterConfig, logger: FastifyBaseLogger, options: FleetOptions): Cluster {
  const backend = cfg.backend === 'triton-grpc' ? new TritonGrpcBackend({ maxMessageBytes: cfg.maxMessageBytes }) : new OpenAiHttpBackend({ apiKey: cfg.apiKey });
  return new Cluster(name, cfg, backend, logger.child({ cluster: name }), options.clusterTelemetry?.(name));
}

/**
 * Throws SWY_ERR_CFG_INVALID for what the schema cannot check (a chat template that does not compile).
 * With `running`, clusters whose settings are unchanged are that fleet's own cluster objects.
 */
export function buildFleet(config: Config, logger: FastifyBaseLogger, options: FleetOptions = {}, running?: Fleet): Fleet {
  for (const [name, model] of Object.entries(config.models)) {
    if (model.llm?.chatTemplate !== undefined) compileChatTemplate(model.llm.chatTemplate, `models.${name}.llm.chatTemplate`);
  }
  const table = new RouteTable(config.models);
  const clusters = new Map<string, Cluster>();
  const clusterSettings = new Map<string, string>();
  const started: Cluster[] = [];
  for (const [name, cfg] of Object.entries(config.clusters)) {
    const settings = canonical(cfg);
    clusterSettings.set(name, settings);
    const carried = running?.clusterSettings.get(name) === settings ? running.clusters.get(name) : undefined;
    const cluster = carried ?? newCluster(name, cfg, logger, options);
    if (carried === undefined) started.push(cluster);
    clusters.set(name, cluster);
  }
  for (const cluster of started) cluster.start();
  const own = (shared: ReadonlySet<Cluster> | undefined): Cluster[] => [...clusters.values()].filter((c) => shared?.has(c) !== true);
  return {
    table,
    clusters,
    clusterSettings,
    inFlight: (shared) => own(shared).reduce((sum, c) => sum + c.inFlightTotal, 0),
    close(shared) {
      for (const cluster of own(shared)) {
        cluster.close();
        cluster.backend.close();
      }
    },
  };
}

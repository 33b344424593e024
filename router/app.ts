// Composition root: the only module that reads the whole config and wires the layers together. It
// also applies a reloaded config: the next fleet is built beside the running one, the router is
// switched to it, and the previous fleet is retired once the requests still using it are done. API
// keys, tenants and their limits apply to the next request after a reload; the limit state store
// (memory or Redis) is built once.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { InFlightLimit } from './admission/in-flight-limit.js';
import { TenantAdmission } from './admission/tenant-admission.js';
import { loadConfigFile } from './config/load-config.js';
import type { Config } from './config/schema.js';
import { SwitchyardError } from './core/errors.js';
import { createTracing } from './telemetry/tracing.js';
import { buildFleet, type Fleet } from './fleet.js';
import { buildAdminListener } from './listeners/admin-listener.js';
import { buildClientHttpListener } from './listeners/client-http-listener.js';
import { KserveGrpcListener } from './listeners/kserve-grpc/kserve-grpc-listener.js';
import { ModelRouter } from './routing/model-router.js';
import { createStateStore } from './state/create-state-store.js';
import { configHash } from './telemetry/config-hash.js';
import { createTelemetry } from './telemetry/create-telemetry.js';
import { Metrics, modelVariants } from './telemetry/metrics.js';
import { traceLogMixin } from './telemetry/trace-log-context.js';

const PACKAGE_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** How often a retired fleet is checked for requests still running on it. */
const RETIRE_POLL_MS = 50;
/** How long a reload waits for the next fleet's DNS clusters to find their first endpoints. */
const DISCOVERY_WAIT_MS = 5_000;
const DISCOVERY_POLL_MS = 20;
/** How long listen() waits for a Redis state store's first connection. */
const STATE_READY_WAIT_MS = 2_000;

/** Settings bound when the listeners are built: a reload keeps their running values and says so. */
const RESTART_ONLY: ReadonlyArray<readonly [key: string, read: (c: Config) => unknown]> = [
  ['listeners.http.host', (c) => c.listeners.http.host],
  ['listeners.http.port', (c) => c.listeners.http.port],
  ['listeners.grpc.host', (c) => c.listeners.grpc.host],
  ['listeners.grpc.port', (c) => c.listeners.grpc.port],
  ['listeners.admin.host', (c) => c.listeners.admin.host],
  ['listeners.admin.port', (c) => c.listeners.admin.port],
  ['limits.maxBodyBytes', (c) => c.limits.maxBodyBytes],
  // The tracer provider is process-wide and registered once at start.
  ['telemetry.tracing', (c) => JSON.stringify(c.telemetry.tracing)],
  // One store (and Redis connection) for the process: limits keep their windows across reloads.
  ['state', (c) => JSON.stringify(c.state)],
];

/** Hosts that only this machine can reach. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export interface ListeningAddresses {
  readonly http: AddressInfo;
  readonly grpc: AddressInfo;
  readonly admin: AddressInfo;
}

export type ReloadResult =
  | {
      readonly applied: true;
      readonly models: readonly string[];
      /** Keys that changed in the file but need a restart; their running values were kept. */
      readonly restartNeeded: readonly string[];
    }
  | { readonly applied: false; readonly error: string };

export interface AppOptions {
  /** The file the config was loaded from; reload() reads it again. Without one, reload() is refused. */
  readonly configPath?: string;
}

export interface App {
  readonly logger: FastifyBaseLogger;
  /** The config in effect: the last one applied, with restart-only settings as the process started. */
  readonly config: Config;
  listen(): Promise<ListeningAddresses>;
  /**
   * Reads the config file again and switches to it, or keeps the running config when it is invalid
   * (one `reload-rejected` error line). Serialised: a reload asked for during one runs once after it.
   * `trigger` only labels the log lines (`SIGHUP`, `file`).
   */
  reload(trigger?: string): Promise<ReloadResult>;
  /** Graceful stop: refuse new work, let in-flight requests finish (up to drainTimeoutMs), close. */
  close(): Promise<void>;
}

export function buildApp(
  config: Config,
  // The mixin puts the trace id of the request being served on every line (when tracing is on).
  logger: FastifyBaseLogger = pino({ level: config.logLevel, mixin: traceLogMixin }) as FastifyBaseLogger,
  options: AppOptions = {},
): App {
  let live = config;
  const metrics = new Metrics();
  metrics.setModels(modelVariants(config.models));
  metrics.setConfigHash(configHash(config));
  // Off by default (then undefined: no provider, no spans); throws SWY_ERR_CFG_INVALID for a missing optional exporter.
  const tracing = createTracing(config.telemetry.tracing, logger);
  const telemetry = createTelemetry({
    metrics,
    logger,
    tracing,
    // A getter, read per request, so a reload applies it at once.
    get accessLog() {
      return live.telemetry.accessLog;
    },
  });
  const fleetOptions = { clusterTelemetry: (cluster: string) => metrics.cluster(cluster) };
  let fleet = buildFleet(config, logger, fleetOptions);
  /** Fleets replaced by a reload whose requests may still be running. */
  const retiring = new Set<Fleet>();
  const router = new ModelRouter(fleet.table, fleet.clusters, {
    telemetry,
    batchObserver: (model) => metrics.batchObserver(model),
    onMirrorCompared: (model, result) => metrics.mirrorCompared(model, result),
  });
  // Endpoint health and ejection gauges are read from the running fleet at scrape time.
  metrics.setEndpointStates(() => router.clusterSnapshot());
  const admission = new InFlightLimit(config.limits.maxInFlight);
  // Limit windows and leases: this process's memory, or Redis shared by every replica (with its outage policy).
  const stateStore = createStateStore(config.state, logger);
  metrics.setStateStore(stateStore);
  const tenantAdmission = new TenantAdmission(config, stateStore);
  metrics.setTenants(tenantAdmission.tenantNames);

  const http = buildClientHttpListener({
    router,
    admission,
    logger,
    telemetry,
    tenantAdmission,
    serverName: 'switchyard',
    serverVersion: PACKAGE_VERSION,
    maxBodyBytes: config.limits.maxBodyBytes,
    // A getter, read per request, so a reload applies it at once.
    get maxTensorElements() {
      return live.limits.maxTensorElements;
    },
  });
  const grpc = new KserveGrpcListener({
    router,
    admission,
    logger,
    telemetry,
    tenantAdmission,
    serverName: 'switchyard',
    serverVersion: PACKAGE_VERSION,
    maxMessageBytes: config.limits.maxBodyBytes,
    get maxTensorElements() {
      return live.limits.maxTensorElements;
    },
  });
  const admin = buildAdminListener({ router, admission, logger, metrics, tenantAdmission, stateStatus: () => stateStore.status });

  let closing: Promise<void> | undefined;

  /** Closes `old` once nothing runs on it any more, or after drainTimeoutMs (requests left then fail). */
  const retire = (old: Fleet, drainTimeoutMs: number): void => {
    retiring.add(old);
    const deadline = Date.now() + drainTimeoutMs;
    const check = (): void => {
      if (!retiring.has(old)) return; // already closed by close()
      // Clusters the running fleet carried over stay open; only the old fleet's own ones drain.
      // Requests still queued in a batcher will be sent on the old clusters: they count too.
      const shared = new Set(fleet.clusters.values());
      const left = old.inFlight(shared) + router.queuedIn([...old.clusters.values()].filter((c) => !shared.has(c)));
      if (left > 0 && Date.now() < deadline) {
        setTimeout(check, RETIRE_POLL_MS).unref();
        return;
      }
      retiring.delete(old);
      old.close(shared);
      if (left > 0) logger.warn({ event: 'fleet-retired', inFlight: left }, `previous fleet closed after drainTimeoutMs with ${left} request(s) still on it`);
      else logger.info({ event: 'fleet-retired', inFlight: 0 }, 'previous fleet drained and closed');
    };
    // The first look is one poll later, not now: a request that resolved its cluster just before the
    // swap may not have claimed an endpoint yet.
    setTimeout(check, RETIRE_POLL_MS).unref();
  };

  const rejected = (trigger: string, err: unknown): ReloadResult => {
    const message = err instanceof Error ? err.message : String(err);
    const fields = { event: 'reload-rejected', trigger, config: options.configPath, ...(err instanceof SwitchyardError ? { code: err.code } : err instanceof Error ? { err } : {}) };
    logger.error(fields, `config reload rejected, the running config stays: ${message}`);
    metrics.configReloaded('rejected');
    return { applied: false, error: message };
  };

  const applyReload = async (trigger: string): Promise<ReloadResult> => {
    if (closing !== undefined) return rejected(trigger, 'the router is shutting down');
    const path = options.configPath;
    if (path === undefined) return rejected(trigger, 'no config file to reload (the router runs on its embedded default; start it with --config)');

    let next: Config;
    let nextFleet: Fleet;
    try {
      next = loadConfigFile(path);
      nextFleet = buildFleet(next, logger, fleetOptions, fleet);
    } catch (err) {
      return rejected(trigger, err);
    }
    // A DNS cluster starts empty; switching to it before its first answer would fail requests.
    const undiscovered = await firstDiscovery(nextFleet);
    if (closing !== undefined) {
      nextFleet.close(new Set(fleet.clusters.values()));
      return rejected(trigger, 'the router is shutting down');
    }
    if (undiscovered.length > 0) {
      logger.warn(
        { event: 'reload-discovery-pending', clusters: undiscovered },
        `switching anyway: no endpoints discovered yet for cluster(s) ${undiscovered.join(', ')} after ${DISCOVERY_WAIT_MS} ms`,
      );
    }
    try {
      router.replace(nextFleet.table, nextFleet.clusters);
    } catch (err) {
      nextFleet.close(new Set(fleet.clusters.values()));
      return rejected(trigger, err);
    }
    // In-flight requests hold references to the previous fleet's clusters and finish there.
    const previous = fleet;
    fleet = nextFleet;
    retire(previous, next.drainTimeoutMs);

    const restartNeeded = RESTART_ONLY.filter(([, read]) => read(next) !== read(config)).map(([key]) => key);
    live = Object.freeze({
      ...next,
      listeners: config.listeners,
      limits: Object.freeze({ ...next.limits, maxBodyBytes: config.limits.maxBodyBytes }),
      telemetry: Object.freeze({ ...next.telemetry, tracing: config.telemetry.tracing }),
    });
    admission.setMax(next.limits.maxInFlight);
    tenantAdmission.update(next);
    metrics.setTenants(tenantAdmission.tenantNames);
    metrics.setModels(modelVariants(next.models));
    metrics.setConfigHash(configHash(live));
    metrics.configReloaded('applied');

    if (restartNeeded.length > 0) {
      logger.warn(
        { event: 'reload-restart-needed', keys: restartNeeded },
        `config changes that need a restart were not applied (the running values stay): ${restartNeeded.join(', ')}`,
      );
    }
    const models = router.models;
    logger.info({ event: 'reloaded', trigger, config: path, models, clusters: Object.keys(next.clusters) }, `config reloaded from ${path}: ${models.length} model(s)`);
    // Last, so the lines above still show at the level that was in effect when the reload began.
    logger.level = next.logLevel;
    return { applied: true, models, restartNeeded };
  };

  // One reload at a time (the discovery wait is asynchronous); a burst of requests made during one
  // is coalesced into a single follow-up, which reads the file as it is by then.
  let running: Promise<ReloadResult> | undefined;
  let queued: Promise<ReloadResult> | undefined;
  const reload = (trigger = 'api'): Promise<ReloadResult> => {
    if (running === undefined) {
      running = applyReload(trigger).finally(() => {
        running = undefined;
      });
      return running;
    }
    queued ??= running.then(undefined, () => undefined).then(() => {
      queued = undefined;
      return reload(trigger);
    });
    return queued;
  };

  return {
    logger,
    get config() {
      return live;
    },
    async listen() {
      warnIfExposed(config, logger);
      // Redis gets a moment to connect, so the first requests are limited globally, not locally.
      if (!(await stateStore.ready(STATE_READY_WAIT_MS))) {
        logger.warn({ event: 'state-store-not-ready', kind: stateStore.kind }, `the limit state store is not answering after ${STATE_READY_WAIT_MS} ms; starting with its outage policy`);
      }
      await http.listen({ host: config.listeners.http.host, port: config.listeners.http.port });
      const grpcAddress = await grpc.listen(config.listeners.grpc.host, config.listeners.grpc.port);
      await admin.listen({ host: config.listeners.admin.host, port: config.listeners.admin.port });
      return { http: address(http), grpc: grpcAddress, admin: address(admin) };
    },
    reload,
    close() {
      closing ??= (async () => {
        const drainUntil = Date.now() + live.drainTimeoutMs;
        // Open ModelStreamInfer calls end once their requests are answered; new requests on them are refused.
        grpc.drain();
        await admission.drain(live.drainTimeoutMs);
        // gRPC: stop accepting calls, and cut off whatever still runs when drainTimeoutMs is up.
        await Promise.allSettled([http.close(), grpc.close(Math.max(0, drainUntil - Date.now())), admin.close()]);
        const running = new Set(fleet.clusters.values());
        for (const old of retiring) old.close(running);
        fleet.close();
        retiring.clear();
        await stateStore.close();
        await tracing?.shutdown();
      })();
      return closing;
    },
  };
}

/**
 * One warning line per exposure at start: client listeners without auth, or the admin listener without
 * admin keys, bound beyond loopback (anyone who can reach the port can use every model / read metrics).
 */
function warnIfExposed(config: Config, logger: FastifyBaseLogger): void {
  const { listeners, auth } = config;
  const exposed = (['http', 'grpc'] as const).filter((name) => !isLoopback(listeners[name].host));
  if (!auth.enabled && exposed.length > 0) {
    logger.warn(
      { event: 'auth-disabled-exposed', listeners: exposed.map((name) => `${listeners[name].host}:${listeners[name].port}`) },
      'auth is off and client listeners are reachable beyond this machine: every client may use every model without a key (set auth.enabled, see docs/TENANTS.md)',
    );
  }
  if (auth.admin.keys.length === 0 && !isLoopback(listeners.admin.host)) {
    logger.warn(
      { event: 'admin-open-exposed', listener: `${listeners.admin.host}:${listeners.admin.port}` },
      'the admin listener has no auth.admin.keys and is reachable beyond this machine: anyone who reaches it reads metrics, clusters and mirrors',
    );
  }
}

/** Waits (bounded) until every cluster of `fleet` has endpoints; answers the names of those still without. */
async function firstDiscovery(fleet: Fleet): Promise<string[]> {
  const empty = (): string[] => [...fleet.clusters].filter(([, cluster]) => cluster.endpoints.length === 0).map(([name]) => name);
  const deadline = Date.now() + DISCOVERY_WAIT_MS;
  let left = empty();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, DISCOVERY_POLL_MS));
    left = empty();
  }
  return left;
}

function address(app: FastifyInstance): AddressInfo {
  return app.server.address() as AddressInfo;
}

// Every Prometheus metric the router exports, defined here and nowhere else (docs/observability.md
// lists them; names are a contract with deploy/monitoring). One Registry per app, never the global
// one, so several routers can run in one process. Labels are bounded: listeners, status classes,
// reasons and results are closed sets; clusters and endpoints come from the config and discovery;
// a model label is a configured model or `_unknown`, a variant one of that model's or `_none`, a
// tenant label a configured tenant or `_anonymous` (no tenant: auth off, or no valid key).
// Label children are created once and cached, so the hot path never builds a label object.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { variantName, type Config } from '../config/schema.js';
import type { ClusterTelemetry } from './cluster-telemetry.js';
import type { ListenerName } from './request-telemetry.js';

export const LISTENERS: readonly ListenerName[] = ['openai', 'kserve-rest', 'kserve-grpc'];
export type StatusClass = '2xx' | '4xx' | '5xx';
export type RejectReason = 'overloaded' | 'batch_queue_full' | 'rate_limited';
export const REJECT_REASONS: readonly RejectReason[] = ['overloaded', 'batch_queue_full', 'rate_limited'];
export type MirrorResult = 'match' | 'mismatch' | 'error';
export type ReloadResult = 'applied' | 'rejected';
export type TokenKind = 'prompt' | 'completion';

/** The model label of anything that is not a configured model. */
export const UNKNOWN_MODEL = '_unknown';
/** The variant label of a request that failed before a variant was chosen. */
export const NO_VARIANT = '_none';
/** The variant label of a name the model does not have (a model removed by a reload, say). */
export const UNKNOWN_VARIANT = '_unknown';
/** The tenant label of a request without a tenant: auth is off, or the request had no valid key. */
export const ANONYMOUS_TENANT = '_anonymous';
/** The tenant label of a name no longer configured (a tenant removed by a reload while its request ran). */
export const UNKNOWN_TENANT = '_unknown';

// Buckets, in seconds (rows for batch size).
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
const ATTEMPT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TTFT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const ITL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const QUEUE_DELAY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export function statusClass(status: number): StatusClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  return '2xx';
}

/** One request series: its counter and its duration histogram. */
export interface RequestSeries {
  readonly total: Counter.Internal;
  readonly duration: Histogram.Internal<string>;
}

/** The LLM series of one model. */
export interface LlmSeries {
  readonly timeToFirstToken: Histogram.Internal<string>;
  readonly interTokenLatency: Histogram.Internal<string>;
  readonly promptTokens: Counter.Internal;
  readonly completionTokens: Counter.Internal;
  readonly streamsActive: Gauge.Internal<string>;
}

/** The accounting series of one (tenant, model). */
export interface TenantSeries {
  requests(status: StatusClass): Counter.Internal;
  readonly promptTokens: Counter.Internal;
  readonly completionTokens: Counter.Internal;
  readonly cost: Counter.Internal;
}

/** What the metrics read from the limit state store at scrape time (router/state's ObservedStateStore fits). */
export interface StateStoreView {
  readonly kind: 'memory' | 'redis';
  readonly up: boolean;
  fallbackTotal(op: 'take' | 'settle' | 'acquire' | 'release'): number;
}

/** The batcher's hooks that feed metrics (structurally a batching BatchObserver; telemetry imports no layer). */
export interface BatchMetricsObserver {
  batchSent(size: number, rows: number, queueDelayMs: number): void;
  queueDepth(n: number): void;
  expired(): void;
  rejected(): void;
  sentAlone(): void;
  cancelled(): void;
  batchFailed(): void;
  split(): void;
}

/** Each cluster's endpoints and how they stand, read at scrape time. */
export type EndpointStates = Readonly<Record<string, Readonly<Record<string, { readonly inFlight: number; readonly healthy: boolean; readonly ejected: boolean }>>>>;

/** The models of a config and each one's variant names (`variantName` of the schema). */
export type ModelVariants = ReadonlyMap<string, ReadonlySet<string>>;

export interface MetricsOptions {
  /** Node process metrics (`process_*`, `nodejs_*`); default true. */
  readonly defaultMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();

  readonly #requests: Counter<'listener' | 'model' | 'variant' | 'status_class'>;
  readonly #requestDuration: Histogram<'listener' | 'model' | 'variant' | 'status_class'>;
  readonly #inFlight: Gauge<'listener'>;
  readonly #overhead: Histogram<'listener'>;
  readonly #attemptDuration: Histogram<'cluster' | 'endpoint' | 'outcome'>;
  readonly #upstreamErrors: Counter<'cluster' | 'endpoint' | 'code'>;
  readonly #retries: Counter<'cluster'>;
  readonly #retriesDenied: Counter<'cluster'>;
  readonly #ejections: Counter<'cluster' | 'endpoint'>;
  readonly #circuitOpen: Counter<'cluster'>;
  readonly #rejected: Counter<'reason'>;
  readonly #ttft: Histogram<'model'>;
  readonly #itl: Histogram<'model'>;
  readonly #tokens: Counter<'model' | 'kind'>;
  readonly #streamsActive: Gauge<'model'>;
  readonly #batchSize: Histogram<'model'>;
  readonly #batchQueueDelay: Histogram<'model'>;
  readonly #batchQueueDepth: Gauge<'model'>;
  readonly #batchExpired: Counter<'model'>;
  readonly #mirrorComparisons: Counter<'model' | 'result'>;
  readonly #reloads: Counter<'result'>;
  readonly #configInfo: Gauge<'hash'>;
  readonly #tenantRequests: Counter<'tenant' | 'model' | 'status_class'>;
  readonly #tenantTokens: Counter<'tenant' | 'model' | 'kind'>;
  readonly #tenantCost: Counter<'tenant' | 'model'>;

  #models: ModelVariants = new Map();
  #endpointStates: () => EndpointStates = () => ({});
  #tenants: ReadonlySet<string> = new Set();
  #stateStore: StateStoreView | undefined;
  readonly #tenantSeries = new Map<string, TenantSeries>();
  readonly #requestSeries = new Map<string, RequestSeries>();
  readonly #llmSeries = new Map<string, LlmSeries>();
  readonly #clusters = new Map<string, ClusterTelemetry>();
  readonly #mirrorSeries = new Map<string, Counter.Internal>();
  readonly #inFlightSeries: ReadonlyMap<ListenerName, Gauge.Internal<string>>;
  readonly #overheadSeries: ReadonlyMap<ListenerName, Histogram.Internal<string>>;
  readonly #rejectedSeries: ReadonlyMap<RejectReason, Counter.Internal>;
  readonly #reloadSeries: ReadonlyMap<ReloadResult, Counter.Internal>;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    const requestLabels = ['listener', 'model', 'variant', 'status_class'] as const;
    this.#requests = new Counter({ name: 'switchyard_requests_total', help: 'Inference requests answered, by listener, model, variant and status class.', labelNames: requestLabels, registers });
    this.#requestDuration = new Histogram({
      name: 'switchyard_request_duration_seconds',
      help: 'Time from request arrival to the response complete (streams: last byte written or client gone).',
      labelNames: requestLabels,
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.#inFlight = new Gauge({ name: 'switchyard_requests_in_flight', help: 'Inference requests being served (streams until their last byte).', labelNames: ['listener'], registers });
    this.#overhead = new Histogram({
      name: 'switchyard_router_overhead_seconds',
      help: 'Time the router spent outside upstream calls: unary requests their duration minus upstream attempt time; streams the time before the upstream\'s first result minus upstream attempt time.',
      labelNames: ['listener'],
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.#attemptDuration = new Histogram({
      name: 'switchyard_upstream_attempt_duration_seconds',
      help: 'One upstream attempt, from endpoint picked to its answer or first result, or its failure.',
      labelNames: ['cluster', 'endpoint', 'outcome'],
      buckets: ATTEMPT_BUCKETS,
      registers,
    });
    this.#upstreamErrors = new Counter({ name: 'switchyard_upstream_errors_total', help: 'Failed upstream attempts by canonical code.', labelNames: ['cluster', 'endpoint', 'code'], registers });
    this.#retries = new Counter({ name: 'switchyard_retries_total', help: 'Retries started on another endpoint.', labelNames: ['cluster'], registers });
    this.#retriesDenied = new Counter({ name: 'switchyard_retries_denied_total', help: 'Retries the retry budget refused.', labelNames: ['cluster'], registers });
    this.#ejections = new Counter({ name: 'switchyard_endpoint_ejections_total', help: 'Outlier-detection ejections.', labelNames: ['cluster', 'endpoint'], registers });
    this.#circuitOpen = new Counter({
      name: 'switchyard_circuit_open_rejections_total',
      help: 'Requests refused because every endpoint was at its in-flight limit and the wait queue was full (SWY_ERR_CLUSTER_OVERLOADED).',
      labelNames: ['cluster'],
      registers,
    });
    this.#rejected = new Counter({ name: 'switchyard_rejected_requests_total', help: 'Requests refused before any upstream work: overloaded, batch_queue_full, rate_limited.', labelNames: ['reason'], registers });
    this.#ttft = new Histogram({ name: 'switchyard_llm_time_to_first_token_seconds', help: 'Generations: request arrival to the first token.', labelNames: ['model'], buckets: TTFT_BUCKETS, registers });
    this.#itl = new Histogram({ name: 'switchyard_llm_inter_token_latency_seconds', help: 'Generations: time between consecutive token deltas.', labelNames: ['model'], buckets: ITL_BUCKETS, registers });
    this.#tokens = new Counter({ name: 'switchyard_llm_tokens_total', help: 'Tokens by kind (prompt, completion), from the backend\'s exact usage.', labelNames: ['model', 'kind'], registers });
    this.#streamsActive = new Gauge({ name: 'switchyard_llm_streams_active', help: 'Generations between their first token and their end.', labelNames: ['model'], registers });
    this.#batchSize = new Histogram({ name: 'switchyard_batch_size', help: 'Rows per batch sent upstream by the router\'s batcher.', labelNames: ['model'], buckets: BATCH_SIZE_BUCKETS, registers });
    this.#batchQueueDelay = new Histogram({
      name: 'switchyard_batch_queue_delay_seconds',
      help: 'How long the oldest request of each batch waited in the queue.',
      labelNames: ['model'],
      buckets: QUEUE_DELAY_BUCKETS,
      registers,
    });
    this.#batchQueueDepth = new Gauge({ name: 'switchyard_batch_queue_depth', help: 'Requests waiting in batch queues.', labelNames: ['model'], registers });
    this.#batchExpired = new Counter({ name: 'switchyard_batch_expired_total', help: 'Requests whose deadline passed in the batch queue (never sent).', labelNames: ['model'], registers });
    this.#mirrorComparisons = new Counter({
      name: 'switchyard_mirror_comparisons_total',
      help: 'Shadow answers compared with the client\'s: match, mismatch, error (the shadow failed).',
      labelNames: ['model', 'result'],
      registers,
    });
    this.#reloads = new Counter({ name: 'switchyard_config_reloads_total', help: 'Config reloads, applied or rejected.', labelNames: ['result'], registers });
    this.#configInfo = new Gauge({ name: 'switchyard_config_info', help: 'Always 1; `hash` = the first 12 hex of the running config\'s sha256.', labelNames: ['hash'], registers });

    const tenantLabels = ['tenant', 'model'] as const;
    this.#tenantRequests = new Counter({
      name: 'switchyard_tenant_requests_total',
      help: 'Inference requests answered, by tenant (`_anonymous`: auth off or no valid key), model and status class.',
      labelNames: [...tenantLabels, 'status_class'],
      registers,
    });
    this.#tenantTokens = new Counter({
      name: 'switchyard_tenant_tokens_total',
      help: 'Tokens charged to a tenant by kind (prompt, completion): the backend\'s usage, or for a generation cut short the prompt estimate and the tokens streamed.',
      labelNames: [...tenantLabels, 'kind'],
      registers,
    });
    this.#tenantCost = new Counter({ name: 'switchyard_tenant_cost_total', help: 'What tenants were charged, in USD, from their configured price.', labelNames: tenantLabels, registers });

    const stateStore = (): StateStoreView | undefined => this.#stateStore;
    new Gauge({
      name: 'switchyard_state_store_up',
      help: '1 while the limit state store answers (always for memory), else 0; `kind` memory or redis.',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        const store = stateStore();
        if (store !== undefined) this.labels(store.kind).set(store.up ? 1 : 0);
      },
    });
    new Counter({
      name: 'switchyard_state_fallback_total',
      help: 'Limit-state operations the shared store did not serve (served locally, refused under failClosed, or dropped), by op.',
      labelNames: ['op'],
      registers,
      collect() {
        // Read at scrape time from the store's own counts, which only grow.
        this.reset();
        const store = stateStore();
        if (store === undefined) return;
        for (const op of ['take', 'settle', 'acquire', 'release'] as const) this.labels(op).inc(store.fallbackTotal(op));
      },
    });

    const endpointStates = (): EndpointStates => this.#endpointStates();
    // Read at scrape time from the running fleet: endpoints gone by discovery or reload disappear.
    const endpointGauge = (name: string, help: string, value: (state: { inFlight: number; healthy: boolean; ejected: boolean }) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['cluster', 'endpoint'],
        registers,
        collect() {
          this.reset();
          for (const [cluster, endpoints] of Object.entries(endpointStates())) {
            for (const [endpoint, state] of Object.entries(endpoints)) this.labels(cluster, endpoint).set(value(state));
          }
        },
      });
    endpointGauge('switchyard_endpoint_healthy', '1 while the endpoint passes active health checks, else 0.', (s) => (s.healthy ? 1 : 0));
    endpointGauge('switchyard_endpoint_ejected', '1 while outlier detection has the endpoint ejected, else 0.', (s) => (s.ejected ? 1 : 0));
    // The router's own view of each replica's load: an autoscaling signal for the GPU pools that
    // needs no exporter in the runtime (docs/capacity.md compares it with queue depth and GPU util).
    endpointGauge('switchyard_endpoint_requests_in_flight', 'Requests the router has in flight on the endpoint (attempts, streams until their end).', (s) => s.inFlight);

    // Fixed label sets: every series exists (at 0) from the start, so rate() and alerts see them.
    this.#inFlightSeries = new Map(LISTENERS.map((l) => [l, this.#inFlight.labels(l)]));
    for (const series of this.#inFlightSeries.values()) series.set(0);
    this.#overheadSeries = new Map(LISTENERS.map((l) => [l, this.#overhead.labels(l)]));
    this.#rejectedSeries = new Map(REJECT_REASONS.map((r) => [r, this.#rejected.labels(r)]));
    for (const series of this.#rejectedSeries.values()) series.inc(0);
    this.#reloadSeries = new Map((['applied', 'rejected'] as const).map((r) => [r, this.#reloads.labels(r)]));
    for (const series of this.#reloadSeries.values()) series.inc(0);

    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text for /metrics. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** The configured models and their variants (at start and on every applied reload). */
  setModels(models: ModelVariants): void {
    this.#models = models;
  }

  /** Where the endpoint gauges read from at scrape time (the running fleet). */
  setEndpointStates(read: () => EndpointStates): void {
    this.#endpointStates = read;
  }

  /** The configured tenant names (at start and on every applied reload). */
  setTenants(names: Iterable<string>): void {
    this.#tenants = new Set(names);
  }

  /** Where the state-store gauges read from at scrape time. */
  setStateStore(store: StateStoreView): void {
    this.#stateStore = store;
  }

  /** `tenant` if it is configured, `_anonymous` when there is none, else `_unknown`. */
  tenantLabel(tenant: string | undefined): string {
    if (tenant === undefined) return ANONYMOUS_TENANT;
    return this.#tenants.has(tenant) ? tenant : UNKNOWN_TENANT;
  }

  /** The accounting series of one (tenant label, model label). */
  tenant(tenant: string, model: string): TenantSeries {
    const key = `${tenant}\u0000${model}`;
    let series = this.#tenantSeries.get(key);
    if (series === undefined) {
      const byStatus = new Map<StatusClass, Counter.Internal>();
      series = {
        requests: (status) => {
          let counter = byStatus.get(status);
          if (counter === undefined) {
            counter = this.#tenantRequests.labels(tenant, model, status);
            byStatus.set(status, counter);
          }
          return counter;
        },
        promptTokens: this.#tenantTokens.labels(tenant, model, 'prompt'),
        completionTokens: this.#tenantTokens.labels(tenant, model, 'completion'),
        cost: this.#tenantCost.labels(tenant, model),
      };
      this.#tenantSeries.set(key, series);
    }
    return series;
  }

  /** `model` if it is configured, else `_unknown`. */
  modelLabel(model: string | undefined): string {
    return model !== undefined && this.#models.has(model) ? model : UNKNOWN_MODEL;
  }

  /** `variant` if `model` (a label) has it, `_none` when there is none, else `_unknown`. */
  variantLabel(model: string, variant: string | undefined): string {
    if (variant === undefined || variant === '') return NO_VARIANT;
    return this.#models.get(model)?.has(variant) === true ? variant : UNKNOWN_VARIANT;
  }

  /** The series of one (listener, model label, variant label, status class). */
  requestSeries(listener: ListenerName, model: string, variant: string, status: StatusClass): RequestSeries {
    const key = `${listener}\u0000${model}\u0000${variant}\u0000${status}`;
    let series = this.#requestSeries.get(key);
    if (series === undefined) {
      series = { total: this.#requests.labels(listener, model, variant, status), duration: this.#requestDuration.labels(listener, model, variant, status) };
      this.#requestSeries.set(key, series);
    }
    return series;
  }

  inFlight(listener: ListenerName): Gauge.Internal<string> {
    return this.#inFlightSeries.get(listener) as Gauge.Internal<string>;
  }

  overhead(listener: ListenerName): Histogram.Internal<string> {
    return this.#overheadSeries.get(listener) as Histogram.Internal<string>;
  }

  rejected(reason: RejectReason): void {
    this.#rejectedSeries.get(reason)?.inc();
  }

  /** The LLM series of a model label. */
  llm(model: string): LlmSeries {
    let series = this.#llmSeries.get(model);
    if (series === undefined) {
      series = {
        timeToFirstToken: this.#ttft.labels(model),
        interTokenLatency: this.#itl.labels(model),
        promptTokens: this.#tokens.labels(model, 'prompt'),
        completionTokens: this.#tokens.labels(model, 'completion'),
        streamsActive: this.#streamsActive.labels(model),
      };
      this.#llmSeries.set(model, series);
    }
    return series;
  }

  /** The telemetry handle of one cluster (one per name: a reload's cluster of the same name shares it). */
  cluster(name: string): ClusterTelemetry {
    let telemetry = this.#clusters.get(name);
    if (telemetry === undefined) {
      telemetry = this.#newClusterTelemetry(name);
      this.#clusters.set(name, telemetry);
    }
    return telemetry;
  }

  /** Hooks for one batcher serving `model` (called once per batcher; queue depths of a model's batchers add up). */
  batchObserver(model: string): BatchMetricsObserver {
    const label = this.modelLabel(model);
    const size = this.#batchSize.labels(label);
    const delay = this.#batchQueueDelay.labels(label);
    const depth = this.#batchQueueDepth.labels(label);
    const expired = this.#batchExpired.labels(label);
    depth.inc(0);
    expired.inc(0);
    let last = 0;
    return {
      batchSent: (_size, rows, queueDelayMs) => {
        size.observe(rows);
        delay.observe(Math.max(0, queueDelayMs) / 1000);
      },
      queueDepth: (n) => {
        depth.inc(n - last);
        last = n;
      },
      expired: () => expired.inc(),
      // Queue-full refusals are counted where every refusal is, by error code (rejected_requests_total).
      rejected: () => {},
      sentAlone: () => {},
      cancelled: () => {},
      batchFailed: () => {},
      split: () => {},
    };
  }

  mirrorCompared(model: string, result: MirrorResult): void {
    const label = this.modelLabel(model);
    const key = `${label}\u0000${result}`;
    let series = this.#mirrorSeries.get(key);
    if (series === undefined) {
      series = this.#mirrorComparisons.labels(label, result);
      this.#mirrorSeries.set(key, series);
    }
    series.inc();
  }

  configReloaded(result: ReloadResult): void {
    this.#reloadSeries.get(result)?.inc();
  }

  /** Only the running config's series exists. */
  setConfigHash(hash: string): void {
    this.#configInfo.reset();
    this.#configInfo.labels(hash).set(1);
  }

  #newClusterTelemetry(cluster: string): ClusterTelemetry {
    const retries = this.#retries.labels(cluster);
    const denied = this.#retriesDenied.labels(cluster);
    const circuitOpen = this.#circuitOpen.labels(cluster);
    retries.inc(0);
    denied.inc(0);
    circuitOpen.inc(0);
    interface EndpointSeries {
      readonly ok: Histogram.Internal<string>;
      readonly failed: Histogram.Internal<string>;
      readonly ejections: Counter.Internal;
      readonly errors: Map<string, Counter.Internal>;
    }
    const endpoints = new Map<string, EndpointSeries>();
    const endpointSeries = (endpoint: string): EndpointSeries => {
      let series = endpoints.get(endpoint);
      if (series === undefined) {
        series = {
          ok: this.#attemptDuration.labels(cluster, endpoint, 'ok'),
          failed: this.#attemptDuration.labels(cluster, endpoint, 'error'),
          ejections: this.#ejections.labels(cluster, endpoint),
          errors: new Map(),
        };
        endpoints.set(endpoint, series);
      }
      return series;
    };
    return {
      attempt: (endpoint, seconds, code) => {
        const series = endpointSeries(endpoint);
        if (code === undefined) {
          series.ok.observe(seconds);
          return;
        }
        series.failed.observe(seconds);
        let errors = series.errors.get(code);
        if (errors === undefined) {
          errors = this.#upstreamErrors.labels(cluster, endpoint, code);
          series.errors.set(code, errors);
        }
        errors.inc();
      },
      retry: () => retries.inc(),
      retryDenied: () => denied.inc(),
      ejected: (endpoint) => endpointSeries(endpoint).ejections.inc(),
      overloaded: () => circuitOpen.inc(),
    };
  }
}

/** Each configured model's variant names, for label bounding. */
export function modelVariants(models: Config['models']): ModelVariants {
  return new Map(Object.entries(models).map(([model, cfg]) => [model, new Set(cfg.split.map((v, i) => variantName(v, i, cfg.split.length)))]));
}

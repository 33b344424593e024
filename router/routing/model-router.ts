// Per request: resolve the model's route and choose a variant (header rules, sticky key, weights),
// rewrite the model name for the upstream and back for the client, apply the deadline (the route's,
// or shorter if the client asks), hand the cluster the route's retry policy, and send a shadow copy
// when the route mirrors. Clusters are reached only through the narrow ClusterDispatch view, so
// routing never sees endpoints or wire codecs.
// Invariant (hot reload): a request reads the routing graph once, at its start, and uses those
// references to the end — including for its mirror — so replace() never changes a request mid-way.
import { performance } from 'node:perf_hooks';
import type { CallContext } from '../core/call-context.js';
import { withTimeout } from '../core/call-context.js';
import { asSwitchyardError, SwitchyardError } from '../core/errors.js';
import { BatcherRegistry } from '../batching/batcher-registry.js';
import type { BatchingStats } from '../batching/batch-counters.js';
import type { BatchObserver } from '../batching/batch-observer.js';
import type { RetryConfig } from '../config/schema.js';
import type { LlmRequest, LlmResult, LlmUpstream } from '../core/llm.js';
import type { ModelInferRequest } from '../generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../generated/inference/ModelInferResponse.js';
import type { ModelMetadataResponse__Output } from '../generated/inference/ModelMetadataResponse.js';
import type { ModelConfigResponse__Output } from '../generated/inference/ModelConfigResponse.js';
import type { ModelStatisticsResponse__Output } from '../generated/inference/ModelStatisticsResponse.js';
import type { ModelStreamInferResponse__Output } from '../generated/inference/ModelStreamInferResponse.js';
import type { Telemetry } from '../telemetry/request-telemetry.js';
import { requestTimeoutMs } from './client-timeout.js';
import { consumeLlmResult, watchCompletion } from './llm-completion.js';
import { Mirror, outcomeOf, type MirrorComparison, type Outcome } from './mirror.js';
import type { MirrorStats } from './mirror-stats.js';
import type { MirrorTarget, Route, RouteTable, Variant } from './route-table.js';
import { sameInferOutputs } from './same-infer-outputs.js';
import { selectVariant } from './variant-selector.js';

interface UpstreamModel {
  readonly name: string;
  readonly version: string;
}

/** What routing needs from a cluster. */
export interface ClusterDispatch {
  infer(request: ModelInferRequest, ctx: CallContext, retry: RetryConfig): Promise<ModelInferResponse__Output>;
  generate(request: LlmRequest, upstream: LlmUpstream, ctx: CallContext, retry: RetryConfig): Promise<LlmResult>;
  /** One V2 request on its own upstream stream; resolves after the first response. */
  streamInfer(request: ModelInferRequest, ctx: CallContext, retry: RetryConfig): Promise<AsyncIterable<ModelStreamInferResponse__Output>>;
  modelReady(model: UpstreamModel, ctx: CallContext): Promise<boolean>;
  modelMetadata(model: UpstreamModel, ctx: CallContext): Promise<ModelMetadataResponse__Output>;
  modelConfig(model: UpstreamModel, ctx: CallContext): Promise<ModelConfigResponse__Output>;
  modelStatistics(model: UpstreamModel, ctx: CallContext): Promise<ModelStatisticsResponse__Output>;
  /** Each endpoint's state, for the admin listener. */
  snapshot(): Record<string, EndpointSnapshot>;
}

export interface EndpointSnapshot {
  readonly inFlight: number;
  readonly healthy: boolean;
  readonly ejected: boolean;
}

export interface ModelReadiness {
  readonly ready: boolean;
  readonly models: Readonly<Record<string, boolean>>;
}

export interface ModelRouterOptions {
  /** Variant choice and mirror sampling; Math.random unless a test passes a seeded one. */
  readonly random?: () => number;
  /** Shadow calls in flight at once for this router; sampled copies beyond it are skipped. Default 64. */
  readonly maxConcurrentMirrors?: number;
  /** Metrics hooks for each new batcher, by client-facing model. */
  readonly batchObserver?: (model: string) => BatchObserver;
  /** Opens the telemetry of each merged batch. */
  readonly telemetry?: Pick<Telemetry, 'batch'>;
  /** Told of every compared mirror pair. */
  readonly onMirrorCompared?: (model: string, result: MirrorComparison) => void;
}

/** One config's routes and the clusters they name; swapped whole by replace(). */
interface RoutingGraph {
  readonly table: RouteTable;
  readonly clusters: ReadonlyMap<string, ClusterDispatch>;
}

/** Where a sampled shadow copy goes, resolved with the primary's graph. */
interface ShadowTarget {
  readonly target: MirrorTarget;
  readonly cluster: ClusterDispatch;
}

type LlmRoute = Route & { llm: NonNullable<Route['llm']> };

export class ModelRouter {
  #graph: RoutingGraph;
  readonly #random: () => number;
  readonly #mirror: Mirror;
  /** Batchers of routes with `batching`, per cluster object (a reload's new clusters get new ones). */
  readonly #batchers: BatcherRegistry;

  constructor(table: RouteTable, clusters: ReadonlyMap<string, ClusterDispatch>, options: ModelRouterOptions = {}) {
    this.#graph = { table, clusters };
    this.#random = options.random ?? Math.random;
    this.#mirror = new Mirror({
      random: this.#random,
      ...(options.maxConcurrentMirrors === undefined ? {} : { maxConcurrent: options.maxConcurrentMirrors }),
      ...(options.onMirrorCompared === undefined ? {} : { onCompared: options.onMirrorCompared }),
    });
    this.#batchers = new BatcherRegistry({
      ...(options.batchObserver === undefined ? {} : { observer: options.batchObserver }),
      ...(options.telemetry === undefined ? {} : { telemetry: options.telemetry }),
    });
  }

  /** Hot reload: new requests use the new routes and clusters; requests already started finish on the old. */
  replace(table: RouteTable, clusters: ReadonlyMap<string, ClusterDispatch>): void {
    this.#graph = { table, clusters };
  }

  get models(): readonly string[] {
    return this.#graph.table.models;
  }

  /** Throws SWY_ERR_ROUTE_MODEL_NOT_FOUND for a model with no route. */
  route(model: string): Route {
    return this.#graph.table.resolve(model);
  }

  /** `request.model_name` is the client's model; `version` the client's ('' = route default). */
  async infer(request: ModelInferRequest & { model_name: string }, ctx: CallContext): Promise<ModelInferResponse__Output> {
    const graph = this.#graph;
    const route = graph.table.resolve(request.model_name);
    const timeoutMs = requestTimeoutMs(route.timeoutMs, ctx.facts);
    const variant = selectVariant(route, ctx.facts, this.#random);
    const cluster = clusterOf(graph, variant.cluster);
    const shadow = this.#shadowTarget(graph, route);
    chose(ctx, route, variant);

    const clientVersion = request.model_version ?? '';
    const upstream = upstreamFor(variant, clientVersion);
    const started = performance.now();
    const upstreamRequest = { ...request, model_name: upstream.name, model_version: upstream.version };
    const primaryCtx = withTimeout(ctx, timeoutMs);
    const primary =
      route.batching === undefined
        ? cluster.infer(upstreamRequest, primaryCtx, route.retry)
        : this.#batchers.batcherFor(cluster, { model: route.model, batching: route.batching, retry: route.retry }, upstream).infer(upstreamRequest, primaryCtx);
    if (shadow !== undefined) {
      const target = upstreamFor(shadow.target, clientVersion);
      this.#mirror.send({
        model: route.model,
        timeoutMs: route.timeoutMs,
        ctx,
        primary: outcomeOf(primary, started),
        send: (shadowCtx) => shadow.cluster.infer({ ...request, model_name: target.name, model_version: target.version }, shadowCtx, route.retry),
        sameOutputs: sameInferOutputs,
      });
    }
    const response = await primary;
    // The client asked for its own model name; the upstream's name is an internal detail.
    response.model_name = route.model;
    return response;
  }

  /**
   * One request of a client's ModelStreamInfer stream, passed through on its own upstream stream:
   * route, variant and cluster chosen once, the deadline applied to the whole stream, model names
   * rewritten both ways. Not mirrored (a shadow of a decoupled stream has no single answer to compare).
   */
  async streamInfer(request: ModelInferRequest & { model_name: string }, ctx: CallContext): Promise<AsyncIterable<ModelStreamInferResponse__Output>> {
    const graph = this.#graph;
    const route = graph.table.resolve(request.model_name);
    const timeoutMs = requestTimeoutMs(route.timeoutMs, ctx.facts);
    const variant = selectVariant(route, ctx.facts, this.#random);
    const cluster = clusterOf(graph, variant.cluster);
    chose(ctx, route, variant);

    const upstream = upstreamFor(variant, request.model_version ?? '');
    const responses = await cluster.streamInfer({ ...request, model_name: upstream.name, model_version: upstream.version }, withTimeout(ctx, timeoutMs), route.retry);
    return withModelName(responses, route.model);
  }

  /** The route of a text-generation model; any other model is a client error naming `model`. */
  llmRoute(model: string): LlmRoute {
    return llmRouteIn(this.#graph.table, model);
  }

  /** Text-generation models, in config order. */
  get llmModels(): readonly string[] {
    const table = this.#graph.table;
    return table.models.filter((m) => table.resolve(m).llm !== undefined);
  }

  /**
   * One generation: choose a variant, name the upstream model and its tensor profile, apply the
   * deadline. A mirrored generation's shadow is a non-streaming copy read to its end; only status and
   * latency are compared (the client's text is consumed by the listener, not seen here).
   */
  async generate(request: LlmRequest, ctx: CallContext): Promise<LlmResult> {
    const graph = this.#graph;
    const route = llmRouteIn(graph.table, request.model);
    const timeoutMs = requestTimeoutMs(route.timeoutMs, ctx.facts);
    const variant = selectVariant(route, ctx.facts, this.#random);
    const cluster = clusterOf(graph, variant.cluster);
    const shadow = this.#shadowTarget(graph, route);
    chose(ctx, route, variant);

    const started = performance.now();
    const primary = cluster.generate(request, llmUpstream(route, upstreamFor(variant, '')), withTimeout(ctx, timeoutMs), route.retry);
    if (shadow === undefined) return primary;

    let complete!: (outcome: Outcome<void>) => void;
    const completed = new Promise<Outcome<void>>((resolve) => (complete = resolve));
    const shadowRequest = nonStreaming(request);
    const shadowUpstream = llmUpstream(route, upstreamFor(shadow.target, ''));
    this.#mirror.send({
      model: route.model,
      timeoutMs: route.timeoutMs,
      ctx,
      primary: completed,
      send: async (shadowCtx) => consumeLlmResult(await shadow.cluster.generate(shadowRequest, shadowUpstream, shadowCtx, route.retry)),
    });
    let result: LlmResult;
    try {
      result = await primary;
    } catch (err) {
      complete({ status: asSwitchyardError(err).canonical, latencyMs: performance.now() - started });
      throw err;
    }
    return watchCompletion(result, (status) => complete({ status, latencyMs: performance.now() - started }));
  }

  /** Ready when any variant of the model has an endpoint reporting it ready. */
  modelReady(model: string, version: string, ctx: CallContext): Promise<boolean> {
    return modelReadyIn(this.#graph, model, version, ctx);
  }

  async modelMetadata(model: string, version: string, ctx: CallContext): Promise<ModelMetadataResponse__Output> {
    const { variant, route, cluster } = primaryOf(this.#graph, model);
    const metadata = await cluster.modelMetadata(upstreamFor(variant, version), ctx);
    return { ...metadata, name: route.model };
  }

  async modelConfig(model: string, version: string, ctx: CallContext): Promise<ModelConfigResponse__Output> {
    const { variant, route, cluster } = primaryOf(this.#graph, model);
    const response = await cluster.modelConfig(upstreamFor(variant, version), ctx);
    return response.config === null ? response : { config: { ...response.config, name: route.model } };
  }

  async modelStatistics(model: string, version: string, ctx: CallContext): Promise<ModelStatisticsResponse__Output> {
    const { variant, route, cluster } = primaryOf(this.#graph, model);
    const response = await cluster.modelStatistics(upstreamFor(variant, version), ctx);
    return { model_stats: response.model_stats.map((s) => ({ ...s, name: route.model })) };
  }

  /** Every configured model has at least one ready endpoint. */
  async readiness(ctx: CallContext): Promise<ModelReadiness> {
    const graph = this.#graph;
    const names = graph.table.models;
    const answers = await Promise.all(names.map((m) => modelReadyIn(graph, m, '', ctx)));
    const models = Object.fromEntries(names.map((m, i) => [m, answers[i] === true]));
    return { ready: answers.every(Boolean), models };
  }

  /** Every cluster's endpoints and their state (in flight, healthy, ejected). */
  clusterSnapshot(): Record<string, Record<string, EndpointSnapshot>> {
    return Object.fromEntries([...this.#graph.clusters].map(([name, cluster]) => [name, cluster.snapshot()]));
  }

  /** V2 requests queued in batchers in front of these clusters (sent later, so still using them). */
  queuedIn(clusters: Iterable<ClusterDispatch>): number {
    return this.#batchers.queuedFor(clusters);
  }

  /** Cumulative batching counters per model with `batching` (since start, across reloads). */
  batchingStats(): Record<string, BatchingStats> {
    const table = this.#graph.table;
    return this.#batchers.stats(table.models.filter((m) => table.resolve(m).batching !== undefined));
  }

  /** Cumulative mirror counters per model (since start, across reloads); mirrored models listed even before traffic. */
  mirrorStats(): Record<string, MirrorStats> {
    const table = this.#graph.table;
    return this.#mirror.stats(table.models.filter((m) => table.resolve(m).mirror !== undefined));
  }

  /** The sampling decision for one request, and where its copy would go. */
  #shadowTarget(graph: RoutingGraph, route: Route): ShadowTarget | undefined {
    if (route.mirror === undefined || !this.#mirror.sample(route.mirror.percent)) return undefined;
    const cluster = graph.clusters.get(route.mirror.cluster);
    if (cluster === undefined) {
      // Config validation rejects unknown clusters; a mirror must never fail the client over it.
      this.#mirror.countSkipped(route.model);
      return undefined;
    }
    return { target: route.mirror, cluster };
  }
}

/** Reports the variant routing chose: to the listener (response header, access log) and to telemetry. */
function chose(ctx: CallContext, route: Route, variant: Variant): void {
  if (ctx.report !== undefined) ctx.report.variant = variant.name;
  ctx.telemetry?.routed(route.model, variant.name);
}

/** Each response named with the client's model; the upstream's name is an internal detail. */
async function* withModelName(responses: AsyncIterable<ModelStreamInferResponse__Output>, model: string): AsyncGenerator<ModelStreamInferResponse__Output> {
  for await (const message of responses) {
    if (message.infer_response !== null) message.infer_response.model_name = model;
    yield message;
  }
}

function llmRouteIn(table: RouteTable, model: string): LlmRoute {
  const route = table.resolve(model);
  if (route.llm === undefined) {
    throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', `model '${model}' does not generate text (use /v2/models/${model}/infer)`, { param: 'model' });
  }
  return route as LlmRoute;
}

async function modelReadyIn(graph: RoutingGraph, model: string, version: string, ctx: CallContext): Promise<boolean> {
  const route = graph.table.resolve(model);
  const answers = await Promise.all(
    route.variants.map((v) => clusterOf(graph, v.cluster).modelReady(upstreamFor(v, version), ctx).catch(() => false)),
  );
  return answers.some(Boolean);
}

/**
 * Metadata and config describe the model, not a replica: they come from the heaviest variant
 * (the stable one in a canary split), so clients see one consistent answer.
 */
function primaryOf(graph: RoutingGraph, model: string): { route: Route; variant: Variant; cluster: ClusterDispatch } {
  const route = graph.table.resolve(model);
  const variant = route.variants.reduce((a, b) => (b.weight > a.weight ? b : a));
  return { route, variant, cluster: clusterOf(graph, variant.cluster) };
}

function clusterOf(graph: RoutingGraph, name: string): ClusterDispatch {
  const cluster = graph.clusters.get(name);
  if (cluster === undefined) {
    // Config validation rejects unknown clusters; reaching this is a wiring bug.
    throw new SwitchyardError('SWY_ERR_INTERNAL', `route refers to unknown cluster "${name}"`);
  }
  return cluster;
}

function upstreamFor(target: { readonly upstreamModel: string; readonly upstreamVersion: string }, clientVersion: string): UpstreamModel {
  return { name: target.upstreamModel, version: clientVersion !== '' ? clientVersion : target.upstreamVersion };
}

function llmUpstream(route: LlmRoute, upstream: UpstreamModel): LlmUpstream {
  return {
    model: upstream.name,
    version: upstream.version,
    profile: route.llm.profile,
    chatTemplate: route.llm.chatTemplate,
    templateVariables: route.llm.templateVariables,
  };
}

/** The shadow copy of a generation: one complete answer, whatever the client asked (no SSE to read). */
function nonStreaming(request: LlmRequest): LlmRequest {
  const body: Record<string, unknown> = { ...request.body, stream: false };
  // OpenAI servers reject stream_options without stream: true.
  delete body.stream_options;
  return { ...request, stream: false, includeUsage: false, body };
}

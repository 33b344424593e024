// Per request: resolve the model's route, choose a variant, rewrite the model name for the upstream
// and back for the client, and apply the route's deadline. Clusters are reached only through the
// narrow ClusterDispatch view, so routing never sees endpoints or wire codecs.
import type { CallContext } from '../core/call-context.js';
import { withTimeout } from '../core/call-context.js';
import { SwitchyardError } from '../core/errors.js';
import type { LlmRequest, LlmResult, LlmUpstream } from '../core/llm.js';
import type { ModelInferRequest } from '../generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../generated/inference/ModelInferResponse.js';
import type { ModelMetadataResponse__Output } from '../generated/inference/ModelMetadataResponse.js';
import type { ModelConfigResponse__Output } from '../generated/inference/ModelConfigResponse.js';
import type { ModelStatisticsResponse__Output } from '../generated/inference/ModelStatisticsResponse.js';
import type { Route, RouteTable, Variant } from './route-table.js';
import { weightedPick } from './weighted-pick.js';

interface UpstreamModel {
  readonly name: string;
  readonly version: string;
}



/** What routing needs from a cluster. */
export interface ClusterDispatch {
  generate(request: LlmRequest, upstream: LlmUpstream, ctx: CallContext): Promise<LlmResult>;
  infer(request: ModelInferRequest, ctx: CallContext): Promise<ModelInferResponse__Output>;
  modelReady(model: UpstreamModel, ctx: CallContext): Promise<boolean>;
  modelMetadata(model: UpstreamModel, ctx: CallContext): Promise<ModelMetadataResponse__Output>;
  modelConfig(model: UpstreamModel, ctx: CallContext): Promise<ModelConfigResponse__Output>;
  modelStatistics(model: UpstreamModel, ctx: CallContext): Promise<ModelStatisticsResponse__Output>;
}

export interface ModelReadiness {
  readonly ready: boolean;
  readonly models: Readonly<Record<string, boolean>>;
}

export class ModelRouter {
  readonly #table: RouteTable;
  readonly #clusters: ReadonlyMap<string, ClusterDispatch>;

  constructor(table: RouteTable, clusters: ReadonlyMap<string, ClusterDispatch>) {
    this.#table = table;
    this.#clusters = clusters;
  }

  get models(): readonly string[] {
    return this.#table.models;
  }

  /** Throws SWY_ERR_ROUTE_MODEL_NOT_FOUND for a model with no route. */
  route(model: string): Route {
    return this.#table.resolve(model);
  }

  /** `request.model_name` is the client's model; `version` the client's ('' = route default). */
  async infer(request: ModelInferRequest & { model_name: string }, ctx: CallContext): Promise<ModelInferResponse__Output> {
    const route = this.#table.resolve(request.model_name);
    const variant = weightedPick(route.variants);
    const upstream = upstreamFor(variant, request.model_version ?? '');
    const response = await this.#cluster(variant).infer(
      { ...request, model_name: upstream.name, model_version: upstream.version },
      withTimeout(ctx, route.timeoutMs),
    );
    // The client asked for its own model name; the upstream's name is an internal detail.
    response.model_name = route.model;
    return response;
  }

  /** The route of a text-generation model; any other model is a client error naming `model`. */
  llmRoute(model: string): Route & { llm: NonNullable<Route['llm']> } {
    const route = this.#table.resolve(model);
    if (route.llm === undefined) {
      throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', `model '${model}' does not generate text (use /v2/models/${model}/infer)`, { param: 'model' });
    }
    return route as Route & { llm: NonNullable<Route['llm']> };
  }

  /** Text-generation models, in config order. */
  get llmModels(): readonly string[] {
    return this.#table.models.filter((m) => this.#table.resolve(m).llm !== undefined);
  }

  /** One generation: pick a variant, name the upstream model and its tensor profile, apply the deadline. */
  generate(request: LlmRequest, ctx: CallContext): Promise<LlmResult> {
    const route = this.llmRoute(request.model);
    const variant = weightedPick(route.variants);
    const upstream = upstreamFor(variant, '');
    return this.#cluster(variant).generate(
      request,
      {
        model: upstream.name,
        version: upstream.version,
        profile: route.llm.profile,
        chatTemplate: route.llm.chatTemplate,
        templateVariables: route.llm.templateVariables,
      },
      withTimeout(ctx, route.timeoutMs),
    );
  }

  /** Ready when any variant of the model has an endpoint reporting it ready. */
  async modelReady(model: string, version: string, ctx: CallContext): Promise<boolean> {
    const route = this.#table.resolve(model);
    const answers = await Promise.all(
      route.variants.map((v) => this.#cluster(v).modelReady(upstreamFor(v, version), ctx).catch(() => false)),
    );
    return answers.some(Boolean);
  }

  async modelMetadata(model: string, version: string, ctx: CallContext): Promise<ModelMetadataResponse__Output> {
    const { variant, route } = this.#primary(model);
    const metadata = await this.#cluster(variant).modelMetadata(upstreamFor(variant, version), ctx);
    return { ...metadata, name: route.model };
  }

  async modelConfig(model: string, version: string, ctx: CallContext): Promise<ModelConfigResponse__Output> {
    const { variant, route } = this.#primary(model);
    const response = await this.#cluster(variant).modelConfig(upstreamFor(variant, version), ctx);
    return response.config === null ? response : { config: { ...response.config, name: route.model } };
  }

  async modelStatistics(model: string, version: string, ctx: CallContext): Promise<ModelStatisticsResponse__Output> {
    const { variant, route } = this.#primary(model);
    const response = await this.#cluster(variant).modelStatistics(upstreamFor(variant, version), ctx);
    return { model_stats: response.model_stats.map((s) => ({ ...s, name: route.model })) };
  }

  /** Every configured model has at least one ready endpoint. */
  async readiness(ctx: CallContext): Promise<ModelReadiness> {
    const names = this.#table.models;
    const answers = await Promise.all(names.map((m) => this.modelReady(m, '', ctx)));
    const models = Object.fromEntries(names.map((m, i) => [m, answers[i] === true]));
    return { ready: answers.every(Boolean), models };
  }

  /**
   * Metadata and config describe the model, not a replica: they come from the heaviest variant
   * (the stable one in a canary split), so clients see one consistent answer.
   */
  #primary(model: string): { route: Route; variant: Variant } {
    const route = this.#table.resolve(model);
    const variant = route.variants.reduce((a, b) => (b.weight > a.weight ? b : a));
    return { route, variant };
  }

  #cluster(variant: Variant): ClusterDispatch {
    const cluster = this.#clusters.get(variant.cluster);
    if (cluster === undefined) {
      // Config validation rejects unknown clusters; reaching this is a wiring bug.
      throw new SwitchyardError('SWY_ERR_INTERNAL', `route refers to unknown cluster "${variant.cluster}"`);
    }
    return cluster;
  }
}

function upstreamFor(variant: Variant, clientVersion: string): UpstreamModel {
  return { name: variant.upstreamModel, version: clientVersion !== '' ? clientVersion : variant.upstreamVersion };
}

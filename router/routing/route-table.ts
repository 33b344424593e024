// Model name → route: the variants a request may go to, the rules that choose between them
// (header matches, sticky key, weights), the mirror, the retry policy, the route's timeout and its
// batching settings.
// Built once per config and immutable, so a hot reload swaps a whole table.
import { variantName, type BatchingConfig, type Config, type HashKeyConfig, type LlmConfig, type ModelConfig, type RetryConfig } from '../config/schema.js';
import { SwitchyardError } from '../core/errors.js';

export interface Variant {
  readonly name: string;
  readonly cluster: string;
  readonly upstreamModel: string;
  readonly upstreamVersion: string;
  readonly weight: number;
}

/** Forces `variant` when every header has exactly the value given (names lower-case, as Node gives them). */
export interface MatchRule {
  readonly headers: readonly (readonly [name: string, value: string])[];
  readonly variant: Variant;
}

/** A shadow copy of `percent` % of the route's requests to a cluster + upstream model. */
export interface MirrorTarget {
  readonly cluster: string;
  readonly upstreamModel: string;
  readonly upstreamVersion: string;
  readonly percent: number;
}

export interface Route {
  readonly model: string;
  readonly variants: readonly Variant[];
  /** Checked in order before weights; the first rule that matches wins. */
  readonly match: readonly MatchRule[];
  /** Same key → same variant while the weights stay the same. */
  readonly sticky: HashKeyConfig | undefined;
  readonly mirror: MirrorTarget | undefined;
  /** The config's own (frozen) object: clusters key their retry budgets on its identity. */
  readonly retry: RetryConfig;
  readonly timeoutMs: number;
  /** Set when V2 infer requests are merged into upstream batches; the config's own (frozen) object, so batchers can tell a reload. */
  readonly batching: BatchingConfig | undefined;
  /** Set for text-generation models (served on /v1 as well). */
  readonly llm: LlmConfig | undefined;
}

export class RouteTable {
  readonly #routes: ReadonlyMap<string, Route>;

  constructor(models: Config['models']) {
    this.#routes = new Map(Object.entries(models).map(([model, cfg]) => [model, buildRoute(model, cfg)]));
  }

  get models(): readonly string[] {
    return [...this.#routes.keys()];
  }

  resolve(model: string): Route {
    const route = this.#routes.get(model);
    if (route === undefined) {
      throw new SwitchyardError('SWY_ERR_ROUTE_MODEL_NOT_FOUND', `Request for unknown model: '${model}' is not found`, { param: 'model' });
    }
    return route;
  }
}

function buildRoute(model: string, cfg: ModelConfig): Route {
  const variants = cfg.split.map((v, i) =>
    Object.freeze({
      // The same default names the schema validates `match[].variant` against.
      name: variantName(v, i, cfg.split.length),
      cluster: v.cluster,
      upstreamModel: v.upstreamModel ?? model,
      upstreamVersion: v.upstreamVersion,
      weight: v.weight,
    }),
  );
  const match = cfg.match.map((rule, i) => {
    const variant = variants.find((v) => v.name === rule.variant);
    if (variant === undefined) {
      // The schema rejects this; reaching it means a table was built from unvalidated config.
      throw new SwitchyardError('SWY_ERR_CFG_INVALID', `models.${model}.match[${i}].variant: unknown variant "${rule.variant}"`);
    }
    const headers = Object.entries(rule.headers).map(([name, value]) => Object.freeze([name.toLowerCase(), value] as const));
    return Object.freeze({ headers: Object.freeze(headers), variant });
  });
  const mirror =
    cfg.mirror === undefined
      ? undefined
      : Object.freeze({
          cluster: cfg.mirror.to.cluster,
          upstreamModel: cfg.mirror.to.upstreamModel ?? model,
          upstreamVersion: cfg.mirror.to.upstreamVersion,
          percent: cfg.mirror.percent,
        });
  return Object.freeze({
    model,
    variants: Object.freeze(variants),
    match: Object.freeze(match),
    sticky: cfg.sticky !== undefined && 'header' in cfg.sticky ? Object.freeze({ header: cfg.sticky.header.toLowerCase() }) : cfg.sticky,
    mirror,
    retry: cfg.retry,
    timeoutMs: cfg.timeoutMs,
    batching: cfg.batching,
    llm: cfg.llm,
  });
}

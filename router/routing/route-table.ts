// Model name → route: the variants a request may go to, and the route's timeout.
import type { Config, LlmConfig } from '../config/schema.js';
import { SwitchyardError } from '../core/errors.js';

export interface Variant {
  readonly name: string;
  readonly cluster: string;
  readonly upstreamModel: string;
  readonly upstreamVersion: string;
  readonly weight: number;
}

export interface Route {
  readonly model: string;
  readonly variants: readonly Variant[];
  readonly timeoutMs: number;
  /** Set for text-generation models (served on /v1 as well). */
  readonly llm: LlmConfig | undefined;
}

export class RouteTable {
  readonly #routes: ReadonlyMap<string, Route>;

  constructor(models: Config['models']) {
    this.#routes = new Map(
      Object.entries(models).map(([model, cfg]) => [
        model,
        Object.freeze({
          model,
          timeoutMs: cfg.timeoutMs,
          llm: cfg.llm,
          variants: Object.freeze(
            cfg.split.map((v, i) =>
              Object.freeze({
                name: v.name ?? (cfg.split.length === 1 ? 'default' : `variant-${i}`),
                cluster: v.cluster,
                upstreamModel: v.upstreamModel ?? model,
                upstreamVersion: v.upstreamVersion,
                weight: v.weight,
              }),
            ),
          ),
        }),
      ]),
    );
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

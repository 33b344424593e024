// A tenant as admission sees it: which models it may use, the limit scopes a request for a model
// falls under (the tenant's own, then one per matching model glob), and its price. Built once per
// config, so a reload swaps whole tenants.
import type { Config, TenantConfig, TenantPriceConfig } from '../config/schema.js';
import { ModelGlob } from './model-glob.js';

export interface LimitValues {
  readonly requestsPerMinute?: number | undefined;
  readonly tokensPerMinute?: number | undefined;
  readonly concurrentRequests?: number | undefined;
}

/** One set of limits and the state-store key its windows and leases live under. */
export interface LimitScope {
  /** `tenant:<name>` or `tenant:<name>:model:<glob>`; the store adds its own prefix. */
  readonly key: string;
  readonly limits: LimitValues;
}

export class Tenant {
  readonly name: string;
  readonly price: TenantPriceConfig | undefined;
  readonly #models: readonly ModelGlob[];
  readonly #own: LimitScope | undefined;
  readonly #perModel: ReadonlyArray<{ readonly glob: ModelGlob; readonly scope: LimitScope }>;

  constructor(name: string, config: TenantConfig) {
    this.name = name;
    this.price = config.price;
    this.#models = config.models.map((pattern) => new ModelGlob(pattern));
    const { models, ...own } = config.limits;
    this.#own = hasLimits(own) ? { key: `tenant:${name}`, limits: own } : undefined;
    this.#perModel = Object.entries(models)
      .filter(([, limits]) => hasLimits(limits))
      .map(([pattern, limits]) => ({ glob: new ModelGlob(pattern), scope: { key: `tenant:${name}:model:${pattern}`, limits } }));
  }

  allows(model: string): boolean {
    return this.#models.some((glob) => glob.matches(model));
  }

  /** The limits a request for `model` must fit: the tenant's own, then every matching glob's (each its own window). */
  scopesFor(model: string): readonly LimitScope[] {
    const scopes: LimitScope[] = this.#own === undefined ? [] : [this.#own];
    for (const { glob, scope } of this.#perModel) if (glob.matches(model)) scopes.push(scope);
    return scopes;
  }

  /** Token prices are set: generations are metered for cost even without a token limit. */
  get pricesTokens(): boolean {
    return this.price?.per1kPromptTokens !== undefined || this.price?.per1kCompletionTokens !== undefined;
  }
}

function hasLimits(limits: LimitValues): boolean {
  return limits.requestsPerMinute !== undefined || limits.tokensPerMinute !== undefined || limits.concurrentRequests !== undefined;
}

export function tenantsFromConfig(tenants: Config['tenants']): ReadonlyMap<string, Tenant> {
  return new Map(Object.entries(tenants).map(([name, config]) => [name, new Tenant(name, config)]));
}

// Admission by API key, the same for every listener: who is asking (authenticate: key → tenant),
// whether they may use the model (authorizeModel), and whether their limits admit this request
// (admit → an AdmittedRequest that settles when the response ends). Also the admin listener's key
// check. Built from `auth` and `tenants`; update() swaps both at once on a config reload (requests
// already admitted keep the tenant they were admitted as).
import type { AuthConfig, Config } from '../config/schema.js';
import { SwitchyardError } from '../core/errors.js';
import type { LlmRequest } from '../core/llm.js';
import type { StateStore } from '../state/state-store.js';
import { AdmittedRequest } from './admitted-request.js';
import { ApiKeyAuth, extractApiKey, type Headers, type KeyProtocol } from './api-key-auth.js';
import { estimatePromptTokens } from './prompt-estimate.js';
import { TenantLimits } from './tenant-limits.js';
import { tenantsFromConfig, type Tenant } from './tenant.js';

/** Who a request is: its tenant, or none when auth is off. */
export interface Identity {
  readonly tenant: Tenant | undefined;
}

export const ANONYMOUS: Identity = Object.freeze({ tenant: undefined });

export interface TenantAdmissionConfig {
  readonly auth: AuthConfig;
  readonly tenants: Config['tenants'];
}

/** A concurrency lease outlives its route's timeout by this much before a dead router's lease heals by itself. */
export const LEASE_SLACK_MS = 30_000;

/** Challenge sent with every 401 (RFC 6750). */
const CHALLENGE = { 'www-authenticate': 'Bearer' };

interface Snapshot {
  readonly enabled: boolean;
  readonly headerName: string;
  readonly hideModels: boolean;
  readonly tenants: ReadonlyMap<string, Tenant>;
  readonly keys: ApiKeyAuth<Tenant>;
  /** Undefined: the admin listener is open. */
  readonly adminKeys: ApiKeyAuth<true> | undefined;
}

export class TenantAdmission {
  #snapshot: Snapshot;
  readonly #limits: TenantLimits;

  constructor(config: TenantAdmissionConfig, store: StateStore) {
    this.#snapshot = snapshot(config);
    this.#limits = new TenantLimits(store);
  }

  /** A reloaded config: keys, tenants, model lists and limits apply to the next request. */
  update(config: TenantAdmissionConfig): void {
    this.#snapshot = snapshot(config);
  }

  get enabled(): boolean {
    return this.#snapshot.enabled;
  }

  /** The configured tenant names (metric labels). */
  get tenantNames(): readonly string[] {
    return [...this.#snapshot.tenants.keys()];
  }

  get adminProtected(): boolean {
    return this.#snapshot.adminKeys !== undefined;
  }

  /** The request's tenant from its key, or 401. With auth off, everyone is ANONYMOUS. */
  authenticate(protocol: Exclude<KeyProtocol, 'admin'>, headers: Headers): Identity {
    const s = this.#snapshot;
    if (!s.enabled) return ANONYMOUS;
    const key = extractApiKey(headers, protocol, s.headerName);
    const tenant = s.keys.lookup(key);
    if (tenant !== undefined) return { tenant };
    const how = protocol === 'openai' ? 'Authorization: Bearer <key>' : `Authorization: Bearer <key> or ${s.headerName}: <key>`;
    throw new SwitchyardError('SWY_ERR_ADMIT_UNAUTHENTICATED', key === undefined ? `an API key is required (${how})` : 'the API key is not valid', { headers: CHALLENGE });
  }

  /** Admin routes: a configured admin key as `Authorization: Bearer`, or 401. Open when no admin keys are configured. */
  authorizeAdmin(headers: Headers): void {
    const adminKeys = this.#snapshot.adminKeys;
    if (adminKeys === undefined) return;
    const key = extractApiKey(headers, 'admin', '');
    if (adminKeys.lookup(key) === undefined) {
      throw new SwitchyardError('SWY_ERR_ADMIT_UNAUTHENTICATED', key === undefined ? 'an admin key is required (Authorization: Bearer <key>)' : 'the admin key is not valid', { headers: CHALLENGE });
    }
  }

  /**
   * 403, or the unknown-model 404 when `auth.unauthorizedModel: not-found` — checked before the model's
   * existence, so neither answer tells a tenant whether a model it may not use exists.
   */
  authorizeModel(identity: Identity, model: string): void {
    const tenant = identity.tenant;
    if (tenant === undefined || tenant.allows(model)) return;
    if (this.#snapshot.hideModels) {
      // Word for word the route table's unknown-model error.
      throw new SwitchyardError('SWY_ERR_ROUTE_MODEL_NOT_FOUND', `Request for unknown model: '${model}' is not found`, { param: 'model' });
    }
    throw new SwitchyardError('SWY_ERR_ADMIT_MODEL_FORBIDDEN', `tenant '${tenant.name}' may not use model '${model}'`, { param: 'model' });
  }

  /** The models a request's tenant may see (model lists, "all statistics"). */
  visibleModels(identity: Identity, models: readonly string[]): readonly string[] {
    const tenant = identity.tenant;
    return tenant === undefined ? models : models.filter((m) => tenant.allows(m));
  }

  /**
   * Takes the request's share of its tenant's limits (429 when one refuses), after authorizeModel.
   * `llm`: a generation, whose prompt estimate + max_tokens is reserved against token limits.
   */
  async admit(identity: Identity, model: string, request: { readonly timeoutMs: number; readonly llm?: LlmRequest | undefined }): Promise<AdmittedRequest> {
    const tenant = identity.tenant;
    const llm = request.llm;
    const reservation = llm === undefined ? undefined : reserve(llm);
    if (tenant === undefined) return new AdmittedRequest(undefined, undefined, reservation);
    const scopes = tenant.scopesFor(model);
    const grant =
      scopes.length === 0
        ? undefined
        : await this.#limits.admit({ tenant: tenant.name, scopes, tokens: reservation?.reserved, leaseTtlMs: request.timeoutMs + LEASE_SLACK_MS });
    const metered = llm !== undefined && (tenant.pricesTokens || scopes.some((s) => s.limits.tokensPerMinute !== undefined));
    return new AdmittedRequest(tenant, grant, reservation, metered);
  }
}

function reserve(llm: LlmRequest): { promptEstimate: number; reserved: number } {
  const promptEstimate = estimatePromptTokens(llm);
  return { promptEstimate, reserved: promptEstimate + llm.sampling.maxTokens };
}

function snapshot(config: TenantAdmissionConfig): Snapshot {
  const tenants = tenantsFromConfig(config.tenants);
  const { auth } = config;
  const keys = new ApiKeyAuth<Tenant>(
    auth.keys.flatMap((k) => {
      const tenant = tenants.get(k.tenant);
      return tenant === undefined ? [] : [[k.sha256, tenant] as const];
    }),
  );
  return {
    enabled: auth.enabled,
    headerName: auth.headerName,
    hideModels: auth.unauthorizedModel === 'not-found',
    tenants,
    keys,
    adminKeys: auth.admin.keys.length === 0 ? undefined : new ApiKeyAuth(auth.admin.keys.map((k) => [k.sha256, true as const] as const)),
  };
}

// A tenant's limits, enforced through the shared StateStore so N routers enforce one limit:
// requestsPerMinute and tokensPerMinute as 60 s sliding-window logs, concurrentRequests as leases.
// Every window and lease a request falls under is taken at once (in parallel: one round trip to
// Redis, not one per limit); if any refuses, the ones that admitted are given back (entry settled
// to 0, lease released), so a refused request costs the tenant nothing. A token window holds the
// request's reservation until the response settles it to what was really used.
import { randomUUID } from 'node:crypto';
import { SwitchyardError } from '../core/errors.js';
import type { LeaseTake, StateStore, WindowTake } from '../state/state-store.js';
import { rateLimitHeaders, tightest, type RateLimitState, type WindowState } from './rate-limit-headers.js';
import type { LimitScope } from './tenant.js';

export const WINDOW_MS = 60_000;
/** A refused lease says nothing about when one frees up: clients are told to wait a second. */
const CONCURRENCY_RETRY_MS = 1_000;

export interface LimitRequest {
  readonly tenant: string;
  readonly scopes: readonly LimitScope[];
  /** Tokens to reserve (generations: prompt estimate + max_tokens); undefined = token limits do not apply (V2 infer). */
  readonly tokens?: number | undefined;
  /** How long a lease may outlive a router that died holding it (route timeout + slack). */
  readonly leaseTtlMs: number;
}

type Take =
  | { readonly kind: 'requests' | 'tokens'; readonly key: string; readonly limit: number; readonly scope: LimitScope; readonly result: Promise<WindowTake> }
  | { readonly kind: 'concurrent'; readonly key: string; readonly limit: number; readonly scope: LimitScope; readonly result: Promise<LeaseTake> };

type Taken = { readonly take: Take; readonly value: WindowTake | LeaseTake };

export class TenantLimits {
  readonly #store: StateStore;
  readonly #newId: () => string;

  constructor(store: StateStore, newId: () => string = randomUUID) {
    this.#store = store;
    this.#newId = newId;
  }

  /** Admits the request under every limit of its scopes, or throws SWY_ERR_ADMIT_RATE_LIMITED (429). */
  async admit(request: LimitRequest): Promise<LimitGrant> {
    const { scopes, tokens } = request;
    for (const scope of scopes) {
      const tpm = scope.limits.tokensPerMinute;
      if (tokens !== undefined && tpm !== undefined && tokens > tpm) {
        // No amount of waiting admits it; a 429 would only make SDKs retry.
        throw new SwitchyardError(
          'SWY_ERR_INPUT_INVALID_FIELD',
          `this request reserves ${tokens} tokens (prompt estimate + max_tokens), more than tenant '${request.tenant}' may use in a minute (tokensPerMinute ${tpm}${globOf(scope)}): lower max_tokens or shorten the prompt`,
          { param: 'max_tokens' },
        );
      }
    }
    const id = this.#newId();
    const store = this.#store;
    const takes: Take[] = [];
    for (const scope of scopes) {
      const { requestsPerMinute: rpm, tokensPerMinute: tpm, concurrentRequests: concurrent } = scope.limits;
      if (rpm !== undefined) {
        const key = `${scope.key}:rpm`;
        takes.push({ kind: 'requests', key, limit: rpm, scope, result: store.take(key, id, 1, rpm, WINDOW_MS) });
      }
      if (tpm !== undefined && tokens !== undefined) {
        const key = `${scope.key}:tpm`;
        takes.push({ kind: 'tokens', key, limit: tpm, scope, result: store.take(key, id, tokens, tpm, WINDOW_MS) });
      }
      if (concurrent !== undefined) {
        const key = `${scope.key}:concurrent`;
        takes.push({ kind: 'concurrent', key, limit: concurrent, scope, result: store.acquire(key, id, concurrent, request.leaseTtlMs) });
      }
    }
    if (takes.length === 0) return new LimitGrant(store, id, [], {});

    const settled = await Promise.allSettled(takes.map((t) => t.result));
    const taken: Taken[] = [];
    let failure: unknown;
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') taken.push({ take: takes[i] as Take, value: s.value });
      else failure ??= s.reason;
    });
    const admitted = taken.filter((t) => t.value.allowed);
    if (failure !== undefined || admitted.length < takes.length) {
      // Give back what did admit: a refused request must not use up the tenant's minute.
      new LimitGrant(store, id, admitted.map((t) => t.take), {}).refund();
      if (failure !== undefined) throw failure; // the store's outage policy said no (failClosed)
      throw refusal(request.tenant, taken);
    }
    return new LimitGrant(store, id, takes, rateLimitState(taken));
  }
}

/** What a request holds once admitted; each method acts once. */
export class LimitGrant {
  /** OpenAI's x-ratelimit-* headers for the tightest windows (empty without request or token limits). */
  readonly headers: Readonly<Record<string, string>>;
  readonly #store: StateStore;
  readonly #id: string;
  readonly #takes: readonly Take[];
  #settled = false;
  #released = false;

  constructor(store: StateStore, id: string, takes: readonly Take[], state: RateLimitState) {
    this.#store = store;
    this.#id = id;
    this.#takes = takes;
    this.headers = rateLimitHeaders(state);
  }

  /** Sets the token windows' entry to what the request really used (a no-op without token windows). */
  settleTokens(tokens: number): void {
    if (this.#settled) return;
    this.#settled = true;
    for (const take of this.#takes) if (take.kind === 'tokens') this.#settle(take.key, Math.max(0, Math.round(tokens)));
  }

  /** Frees the concurrency leases. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const take of this.#takes) {
      if (take.kind === 'concurrent') this.#store.release(take.key, this.#id).catch(ignore);
    }
  }

  /** The request was never served: its window entries cost nothing and its leases are freed. */
  refund(): void {
    if (!this.#settled) {
      this.#settled = true;
      for (const take of this.#takes) if (take.kind !== 'concurrent') this.#settle(take.key, 0);
    }
    this.release();
  }

  #settle(key: string, cost: number): void {
    // The store applies its outage policy and logs; a failed settle only leaves the reservation in place.
    this.#store.settle(key, this.#id, cost, WINDOW_MS).catch(ignore);
  }
}

function ignore(): void {}

function globOf(scope: LimitScope): string {
  const at = scope.key.indexOf(':model:');
  return at < 0 ? '' : ` for models '${scope.key.slice(at + ':model:'.length)}'`;
}

const LIMIT_NAMES = { requests: 'requestsPerMinute', tokens: 'tokensPerMinute', concurrent: 'concurrentRequests' } as const;

function rateLimitState(taken: readonly Taken[]): RateLimitState {
  const windows = (kind: 'requests' | 'tokens', deniedFirst: boolean): WindowState | undefined => {
    const of = taken.filter((t) => t.take.kind === kind).map((t) => ({ ...(t.value as WindowTake), denied: !t.value.allowed }));
    const denied = of.filter((w) => w.denied);
    return tightest(deniedFirst && denied.length > 0 ? denied : of);
  };
  return { requests: windows('requests', true), tokens: windows('tokens', true) };
}

function refusal(tenant: string, taken: readonly Taken[]): SwitchyardError {
  const denied = taken.filter((t) => !t.value.allowed);
  let retryAfterMs = 0;
  const reasons = denied.map(({ take, value }) => {
    const wait = take.kind === 'concurrent' ? CONCURRENCY_RETRY_MS : (value as WindowTake).retryAfterMs;
    retryAfterMs = Math.max(retryAfterMs, wait);
    return `${LIMIT_NAMES[take.kind]} ${take.limit}${globOf(take.scope)}`;
  });
  const retryAfterS = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new SwitchyardError('SWY_ERR_ADMIT_RATE_LIMITED', `tenant '${tenant}' is over its limit: ${reasons.join(', ')}; retry after ${retryAfterS} s`, {
    retryAfterS,
    // OpenAI's SDKs read retry-after-ms before retry-after: a precise wait instead of whole seconds.
    headers: { ...rateLimitHeaders(rateLimitState(taken)), 'retry-after-ms': String(Math.max(1, Math.ceil(retryAfterMs))) },
  });
}

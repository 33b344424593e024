// One admitted request until its response ends: it holds the tenant's limit grant, learns what the
// request really used (the backend's usage, or the token deltas that reached the client), and when
// the response is over settles the token reservation, frees the concurrency leases and answers what
// the tenant is charged.
//
// The settle rule: the backend's exact usage when the generation ended; otherwise (the client left
// mid-stream, or the upstream broke off) the prompt estimate + the token deltas already streamed;
// nothing at all when no token was produced (a failed request is not billed). V2 infer requests
// have no tokens: they cost `price.perInference` when answered.
import type { LlmUsage } from '../core/llm.js';
import type { LimitGrant } from './tenant-limits.js';
import type { Tenant } from './tenant.js';

export interface Charge {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Undefined when the tenant has no price (or there is no tenant). */
  readonly costUsd: number | undefined;
}

export interface TokenReservation {
  /** ceil(prompt characters / 4): see prompt-estimate.ts. */
  readonly promptEstimate: number;
  /** Reserved at admission: promptEstimate + max_tokens. */
  readonly reserved: number;
}

export class AdmittedRequest {
  /** The tenant, undefined when auth is off. */
  readonly tenant: Tenant | undefined;
  /** x-ratelimit-* for the response (empty when the tenant has no request or token limits). */
  readonly headers: Readonly<Record<string, string>>;
  /** Generations of a metered tenant (token limit or token price): relayed answers are read for their usage. */
  readonly metersTokens: boolean;
  readonly #grant: LimitGrant | undefined;
  readonly #tokens: TokenReservation | undefined;
  #usage: LlmUsage | undefined;
  #streamed = 0;
  #failed = false;
  #charge: Charge | undefined;

  constructor(tenant: Tenant | undefined, grant: LimitGrant | undefined, tokens?: TokenReservation, metersTokens = false) {
    this.tenant = tenant;
    this.#grant = grant;
    this.#tokens = tokens;
    this.headers = grant?.headers ?? {};
    this.metersTokens = metersTokens;
  }

  /** The backend's exact token counts. */
  usage(usage: LlmUsage): void {
    this.#usage ??= usage;
  }

  /** One token delta went to the client. */
  streamed(count = 1): void {
    this.#streamed += count;
  }

  /** The response went out as a success and then failed (an SSE error event). */
  failed(): void {
    this.#failed = true;
  }

  /** Once the response is over (complete, failed or abandoned); later calls answer the same charge. */
  finish(succeeded: boolean): Charge {
    if (this.#charge !== undefined) return this.#charge;
    const ok = succeeded && !this.#failed;
    let promptTokens = 0;
    let completionTokens = 0;
    if (this.#tokens !== undefined) {
      if (this.#usage !== undefined) {
        promptTokens = this.#usage.promptTokens;
        completionTokens = this.#usage.completionTokens;
      } else if (this.#streamed > 0) {
        promptTokens = this.#tokens.promptEstimate;
        completionTokens = this.#streamed;
      }
      this.#grant?.settleTokens(promptTokens + completionTokens);
    }
    this.#grant?.release();
    const price = this.tenant?.price;
    let costUsd: number | undefined;
    if (price !== undefined) {
      const cost =
        (promptTokens * (price.per1kPromptTokens ?? 0)) / 1000 + (completionTokens * (price.per1kCompletionTokens ?? 0)) / 1000 + (ok ? (price.perInference ?? 0) : 0);
      // Whole nano-dollars: no float dust in logs and counters.
      costUsd = Math.round(cost * 1e9) / 1e9;
    }
    this.#charge = { promptTokens, completionTokens, costUsd };
    return this.#charge;
  }
}

// How long simulated work takes: a + b*batch ms per execution, and prefill + per-token time for
// tiny-llm. Mutable at run time through /dev/faults, so every read goes through this object.

export interface CostSettings {
  latencyAMs: number;
  latencyBMs: number;
  tokenLatencyMs: number;
  prefillMsPerToken: number;
}

export class CostModel implements CostSettings {
  latencyAMs: number;
  latencyBMs: number;
  tokenLatencyMs: number;
  prefillMsPerToken: number;

  constructor(settings: CostSettings) {
    this.latencyAMs = settings.latencyAMs;
    this.latencyBMs = settings.latencyBMs;
    this.tokenLatencyMs = settings.tokenLatencyMs;
    this.prefillMsPerToken = settings.prefillMsPerToken;
  }

  /** One execution of a batch of `batchSize` rows on one instance. */
  executionMs(batchSize: number): number {
    return this.latencyAMs + this.latencyBMs * batchSize;
  }

  /** Time before the first token of a prompt of `promptTokens` tokens. */
  prefillMs(promptTokens: number): number {
    return this.prefillMsPerToken * promptTokens;
  }
}

// Small hand-made profiles for the simulator's unit tests: costs simple enough to check against
// queueing theory and hand arithmetic, independent of the calibrated profiles' numbers.
import type { LlmProfile, VisionProfile } from '../../../runtimes/dev/profiles/gpu-profile.js';

/** One instance, batch 1, a deterministic 10 ms per execution: an M/D/1 server under Poisson arrivals. */
export const MD1_PROFILE: VisionProfile = Object.freeze({
  kind: 'vision',
  name: 'test-md1',
  gpu: 'A10',
  model: 'test',
  description: 'M/D/1 test server',
  sources: [],
  maxBatchSize: 1,
  instances: 1,
  executionMs: () => 10,
});

/** Batches cost 2 ms + 0.5 ms per row, two instances, each slowed ×1.5 when both run. */
export const BATCHING_PROFILE: VisionProfile = Object.freeze({
  kind: 'vision',
  name: 'test-batching',
  gpu: 'A10',
  model: 'test',
  description: 'batching test server',
  sources: [],
  maxBatchSize: 8,
  instances: 2,
  executionMs: (batch: number, concurrent: number) => (2 + 0.5 * batch) * (concurrent > 1 ? 1.5 : 1),
});

/** Decode 10 ms + 1 ms per running sequence, prefill 0.1 ms per token, a cache of 64 blocks of 16 tokens. */
export const TINY_LLM_PROFILE: LlmProfile = Object.freeze({
  kind: 'llm',
  name: 'test-llm',
  gpu: 'A10',
  model: 'test',
  description: 'LLM test engine',
  sources: [],
  maxNumSeqs: 4,
  kvCacheTokens: 64 * 16,
  kvBlockTokens: 16,
  maxModelLen: 1024,
  prefillMs: (tokens: number) => 0.1 * tokens,
  decodeStepMs: (running: number) => 10 + running,
});

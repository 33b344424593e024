// The contract of a calibrated GPU profile: the cost functions the dev runtime (`--profile NAME`)
// and the autoscaling simulator (loadtests/simulator) both read, so the thing we run and the thing
// we simulate cannot drift apart. Every number behind these functions comes from a published
// measurement cited in docs/capacity.md; the profile says which (`sources`).

export type GpuName = 'A10' | 'A100';

/** A published source a profile's figures come from; docs/capacity.md lists the same ids. */
export interface ProfileSource {
  readonly id: string;
  readonly title: string;
  readonly url: string;
  /** Which figures were taken from it, and how they were read (table, chart, derived). */
  readonly used: string;
}

interface ProfileBase {
  /** e.g. 'resnet50-trt-fp16-a10' — the `--profile` flag value. */
  readonly name: string;
  readonly gpu: GpuName;
  /** The exact board the figures are for, e.g. 'A100-SXM4-80GB' (the A100 sources differ); optional so test doubles need not say. */
  readonly gpuVariant?: string;
  /** The model name the dev runtime serves under this profile. */
  readonly model: string;
  readonly description: string;
  readonly sources: readonly ProfileSource[];
}

/** An image model behind Triton (TensorRT backend): executions of a batch on model instances. */
export interface VisionProfile extends ProfileBase {
  readonly kind: 'vision';
  /** Triton max_batch_size. */
  readonly maxBatchSize: number;
  /** Model instances per GPU the profile ships with (instance_group count). */
  readonly instances: number;
  /**
   * Milliseconds one execution of `batch` rows takes while `concurrent` executions (this one
   * included, 1 ≤ concurrent ≤ instances) share the GPU.
   */
  executionMs(batch: number, concurrent: number): number;
}

/** A decoder LLM behind vLLM: continuous batching over a KV cache of fixed size. */
export interface LlmProfile extends ProfileBase {
  readonly kind: 'llm';
  /** vLLM --max-num-seqs: running sequences per engine step at most. */
  readonly maxNumSeqs: number;
  /** KV-cache capacity in tokens (blocks × block size) left after weights and activations. */
  readonly kvCacheTokens: number;
  /** Tokens per KV-cache block (vLLM's --block-size, 16). */
  readonly kvBlockTokens: number;
  /** --max-model-len: prompt + generated tokens of one sequence at most. */
  readonly maxModelLen: number;
  /** Milliseconds of GPU time to prefill `promptTokens` prompt tokens (added to the step they run in). */
  prefillMs(promptTokens: number): number;
  /** Milliseconds of one decode step producing one token for each of `running` sequences. */
  decodeStepMs(running: number): number;
}

export type GpuProfile = VisionProfile | LlmProfile;

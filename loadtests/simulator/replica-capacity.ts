// A closed-form estimate of one replica's saturation throughput, used only to fit a trace to a
// profile (`--rate-scale auto`) and to report alongside results — never inside the simulation.
//   vision: every instance busy with full batches: instances × maxBatch / executionMs(maxBatch, instances).
//   LLM: C sequences in flight, C = min(maxNumSeqs, KV tokens / mean tokens held per sequence
//        (prompt + half the output, on average over its life)); each step also prefills the
//        C / meanOutput sequences that replace the finished ones:
//        step = decodeStepMs(C) + (C / meanOutput) × prefillMs(meanPrompt);
//        throughput = C / (meanOutput × step).
import type { GpuProfile } from '../../runtimes/dev/profiles/gpu-profile.js';
import { RequestMix, type LlmMixParams } from './request-mix.js';

export interface ReplicaCapacity {
  /** Requests per second at saturation. */
  readonly rps: number;
  /** Requests one replica holds at saturation (batch slots × instances, or C). */
  readonly concurrency: number;
}

export function replicaCapacity(profile: GpuProfile, mix?: LlmMixParams): ReplicaCapacity {
  if (profile.kind === 'vision') {
    const b = profile.maxBatchSize;
    const k = profile.instances;
    return { rps: (k * b * 1000) / profile.executionMs(b, k), concurrency: k * b };
  }
  const m = RequestMix.means(profile, mix);
  const held = m.prompt + m.output / 2;
  const c = Math.max(1, Math.min(profile.maxNumSeqs, Math.floor(profile.kvCacheTokens / held)));
  const stepMs = profile.decodeStepMs(c) + (c / m.output) * profile.prefillMs(m.prompt);
  return { rps: (c * 1000) / (m.output * stepMs), concurrency: c };
}

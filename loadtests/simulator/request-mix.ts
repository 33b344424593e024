// What one client request asks for, per profile kind. Vision: one image (batch 1), as the
// ResNet-50 MLPerf Server scenario sends them. LLM: prompt and output lengths drawn log-normal
// (a chat-like mix: median prompt 512 tokens, median output 160 tokens, σ = 0.7 in log space,
// clipped to [32, 4096] and [16, 1024] and to max-model-len); `max_tokens` = the drawn output
// length (the request stops there, as a length-limited benchmark does).
import type { GpuProfile } from '../../runtimes/dev/profiles/gpu-profile.js';
import type { SeededRandom } from './seeded-random.js';

export interface RequestShape {
  readonly promptTokens: number;
  readonly outputTokens: number;
}

export interface LlmMixParams {
  readonly promptMedian: number;
  readonly promptSigma: number;
  readonly promptMin: number;
  readonly promptMax: number;
  readonly outputMedian: number;
  readonly outputSigma: number;
  readonly outputMin: number;
  readonly outputMax: number;
}

export const DEFAULT_LLM_MIX: LlmMixParams = Object.freeze({
  promptMedian: 512,
  promptSigma: 0.7,
  promptMin: 32,
  promptMax: 4096,
  outputMedian: 160,
  outputSigma: 0.7,
  outputMin: 16,
  outputMax: 1024,
});

const IMAGE: RequestShape = Object.freeze({ promptTokens: 0, outputTokens: 0 });

export class RequestMix {
  readonly #profile: GpuProfile;
  readonly #random: SeededRandom;
  readonly params: LlmMixParams;

  constructor(profile: GpuProfile, random: SeededRandom, params: LlmMixParams = DEFAULT_LLM_MIX) {
    this.#profile = profile;
    this.#random = random;
    this.params = params;
  }

  next(): RequestShape {
    const p = this.#profile;
    if (p.kind === 'vision') return IMAGE;
    const m = this.params;
    const prompt = clamp(Math.round(this.#random.logNormal(m.promptMedian, m.promptSigma)), m.promptMin, Math.min(m.promptMax, p.maxModelLen - m.outputMin));
    const output = clamp(Math.round(this.#random.logNormal(m.outputMedian, m.outputSigma)), m.outputMin, Math.min(m.outputMax, p.maxModelLen - prompt));
    return { promptTokens: prompt, outputTokens: output };
  }

  /** Mean prompt and output tokens, estimated from a fixed sample (for capacity estimates, not for the run). */
  static means(profile: GpuProfile, params: LlmMixParams = DEFAULT_LLM_MIX): { prompt: number; output: number } {
    if (profile.kind === 'vision') return { prompt: 0, output: 0 };
    return sampleMeans(profile, params);
  }
}

function sampleMeans(profile: GpuProfile & { kind: 'llm' }, params: LlmMixParams): { prompt: number; output: number } {
  // Midpoint quadrature over the normal quantiles: deterministic, no PRNG needed.
  const n = 2000;
  let prompt = 0;
  let output = 0;
  for (let i = 0; i < n; i++) {
    const z = normalQuantile((i + 0.5) / n);
    const p = clamp(Math.round(params.promptMedian * Math.exp(params.promptSigma * z)), params.promptMin, Math.min(params.promptMax, profile.maxModelLen - params.outputMin));
    const o = clamp(Math.round(params.outputMedian * Math.exp(params.outputSigma * z)), params.outputMin, Math.min(params.outputMax, profile.maxModelLen - p));
    prompt += p;
    output += o;
  }
  return { prompt: prompt / n, output: output / n };
}

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const A = (i: number): number => a[i] as number;
  const B = (i: number): number => b[i] as number;
  const C = (i: number): number => c[i] as number;
  const D = (i: number): number => d[i] as number;
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C(0) * q + C(1)) * q + C(2)) * q + C(3)) * q + C(4)) * q + C(5)) / ((((D(0) * q + D(1)) * q + D(2)) * q + D(3)) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((A(0) * r + A(1)) * r + A(2)) * r + A(3)) * r + A(4)) * r + A(5)) * q) / (((((B(0) * r + B(1)) * r + B(2)) * r + B(3)) * r + B(4)) * r + 1);
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

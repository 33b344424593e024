// tiny-llm's reading of vLLM sampling parameters (the `sampling_parameters` JSON input, or the
// request parameters when that input is absent, as the vLLM backend does). Numbers may arrive as
// numeric strings (the backend casts with int()/float()); vLLM's range checks and messages apply;
// keys tiny-llm does not use are ignored. Errors are plain Errors; the model wraps them.
import type { InferParameter__Output } from '../../../../router/generated/inference/InferParameter.js';

export interface SamplingParameters {
  maxTokens: number;
  stop: string[];
  seed: number | undefined;
  temperature: number;
  topP: number;
  topK: number;
  minTokens: number;
  ignoreEos: boolean;
  includeStopStrInOutput: boolean;
}

/** vLLM's SamplingParams default for max_tokens. */
export const DEFAULT_MAX_TOKENS = 16;

type Json = Record<string, unknown>;

function num(params: Json, key: string, fallback: number, integer: boolean): number {
  const raw = params[key];
  if (raw === undefined || raw === null) return fallback;
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new Error(`${key} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function bool(params: Json, key: string): boolean {
  const raw = params[key];
  if (raw === undefined || raw === null) return false;
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new Error(`${key} must be a boolean, got ${JSON.stringify(raw)}`);
}

function stopList(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') return [raw];
  if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) return raw as string[];
  throw new Error(`stop must be a string or a list of strings, got ${JSON.stringify(raw)}`);
}

export function parseSamplingParameters(json: string): SamplingParameters {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new Error(`sampling_parameters is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('sampling_parameters must be a JSON object');
  }
  const params = parsed as Json;
  const n = num(params, 'n', 1, true);
  if (n < 1) throw new Error(`n must be at least 1, got ${n}.`);
  if (n > 1) throw new Error(`tiny-llm generates one sequence per request; n must be 1, got ${n}.`);
  const temperature = num(params, 'temperature', 1, false);
  if (temperature < 0) throw new Error(`temperature must be non-negative, got ${temperature}.`);
  const topP = num(params, 'top_p', 1, false);
  if (!(topP > 0 && topP <= 1)) throw new Error(`top_p must be in (0, 1], got ${topP}.`);
  const topK = num(params, 'top_k', 0, true);
  if (topK < -1) throw new Error(`top_k must be 0 (disable), or at least 1, got ${topK}.`);
  const maxTokens = num(params, 'max_tokens', DEFAULT_MAX_TOKENS, true);
  if (maxTokens < 1) throw new Error(`max_tokens must be at least 1, got ${maxTokens}.`);
  const minTokens = num(params, 'min_tokens', 0, true);
  if (minTokens < 0) throw new Error(`min_tokens must be greater than or equal to 0, got ${minTokens}.`);
  if (minTokens > maxTokens) throw new Error(`min_tokens must be less than or equal to max_tokens=${maxTokens}, got ${minTokens}.`);
  const seed = params['seed'] === undefined || params['seed'] === null ? undefined : num(params, 'seed', 0, true);
  return {
    maxTokens,
    stop: stopList(params['stop']),
    seed,
    temperature,
    topP,
    topK,
    minTokens,
    ignoreEos: bool(params, 'ignore_eos'),
    includeStopStrInOutput: bool(params, 'include_stop_str_in_output'),
  };
}

/** The request parameters as the JSON object the vLLM backend would parse ("triton_*" keys dropped). */
export function parametersAsJson(parameters: Record<string, InferParameter__Output>): string {
  const out: Json = {};
  for (const [key, p] of Object.entries(parameters)) {
    if (key.startsWith('triton_')) continue;
    switch (p.parameter_choice) {
      case 'bool_param': out[key] = p.bool_param; break;
      case 'int64_param': out[key] = Number(p.int64_param); break;
      case 'uint64_param': out[key] = Number(p.uint64_param); break;
      case 'double_param': out[key] = p.double_param; break;
      case 'string_param': out[key] = p.string_param; break;
      default: break;
    }
  }
  return JSON.stringify(out);
}

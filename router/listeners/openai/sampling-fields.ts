// The request fields /v1/chat/completions and /v1/completions share — model, streaming, max tokens,
// sampling, the fields accepted and ignored, and the unknown-field check — validated once for both.
import type { LlmKind, SamplingParams } from '../../core/llm.js';
import { SwitchyardError } from '../../core/errors.js';
import {
  describeJson, expectBoolean, expectInteger, expectNumber, expectObject, expectString, invalidField, optionalField, requiredField,
  type JsonObject,
} from './field-checks.js';

/** Bounds on client input for one model (the model's `llm` config). */
export interface OpenAiLimits {
  /** max_tokens for a chat request that names none (legacy completions default to OpenAI's 16). */
  readonly defaultMaxTokens: number;
  readonly maxTokens: number;
  readonly maxMessages: number;
  /** Characters of message content (chat) or prompt (completions). */
  readonly maxPromptChars: number;
}

export interface SharedFields {
  readonly model: string;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly sampling: SamplingParams;
}

/** Fields both endpoints validate here (`logprobs` too, though each endpoint types it differently). */
export const SHARED_FIELDS: ReadonlySet<string> = new Set([
  'model', 'stream', 'stream_options', 'max_tokens', 'temperature', 'top_p', 'frequency_penalty', 'presence_penalty',
  'n', 'stop', 'seed', 'logit_bias', 'logprobs',
  // vLLM's extra sampling fields that SamplingParams carries.
  'top_k', 'repetition_penalty', 'min_tokens', 'ignore_eos',
]);

/**
 * Accepted and ignored: they do not change the generated text (bookkeeping, caching hints, tool
 * settings without tools). They stay in LlmRequest.body, so an OpenAI-speaking backend still sees them.
 */
export const IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'user', 'metadata', 'store', 'service_tier', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention',
  'parallel_tool_calls', 'reasoning_effort', 'verbosity',
]);

const STREAM_OPTIONS: ReadonlySet<string> = new Set(['include_usage', 'include_obfuscation']);

/** OpenAI's default for legacy completions. */
const COMPLETION_DEFAULT_MAX_TOKENS = 16;
const MAX_STOP_SEQUENCES = 4;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** `kindFields`: the fields the endpoint's own parser reads; anything else not listed here is a typo. */
export function parseSharedFields(body: JsonObject, kind: LlmKind, kindFields: ReadonlySet<string>, limits: OpenAiLimits): SharedFields {
  for (const key of Object.keys(body)) {
    if (!SHARED_FIELDS.has(key) && !kindFields.has(key) && !IGNORED_FIELDS.has(key)) {
      throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', `unrecognized request field '${key}'`, { param: key });
    }
  }

  const model = expectString(requiredField(body, 'model', 'model'), 'model');
  if (model === '') invalidField('model', 'must not be empty');

  const streamValue = optionalField(body, 'stream');
  const stream = streamValue === undefined ? false : expectBoolean(streamValue, 'stream');
  const includeUsage = parseStreamOptions(optionalField(body, 'stream_options'), stream);

  const n = optionalField(body, 'n');
  if (n !== undefined && expectInteger(n, 'n', { min: 1 }) > 1) invalidField('n', 'must be 1: n > 1 is not supported; ask for one choice per request');

  const logitBias = optionalField(body, 'logit_bias');
  if (logitBias !== undefined && Object.keys(expectObject(logitBias, 'logit_bias')).length > 0) {
    invalidField('logit_bias', 'is not supported');
  }

  return { model, stream, includeUsage, sampling: parseSampling(body, kind, limits) };
}

function parseStreamOptions(value: unknown, stream: boolean): boolean {
  if (value === undefined) return false;
  if (!stream) invalidField('stream_options', 'is only allowed with stream: true');
  const options = expectObject(value, 'stream_options');
  for (const key of Object.keys(options)) {
    if (!STREAM_OPTIONS.has(key)) invalidField(`stream_options.${key}`, 'is not a supported stream option (include_usage, include_obfuscation)');
  }
  const obfuscation = optionalField(options, 'include_obfuscation');
  if (obfuscation !== undefined) expectBoolean(obfuscation, 'stream_options.include_obfuscation');
  const usage = optionalField(options, 'include_usage');
  return usage === undefined ? false : expectBoolean(usage, 'stream_options.include_usage');
}

function parseSampling(body: JsonObject, kind: LlmKind, limits: OpenAiLimits): SamplingParams {
  const maxTokens = parseMaxTokens(body, kind, limits);
  const sampling: Mutable<SamplingParams> = { maxTokens, stop: parseStop(optionalField(body, 'stop')) };

  const number = (field: string, range: { min: number; max: number }): number | undefined => {
    const value = optionalField(body, field);
    return value === undefined ? undefined : expectNumber(value, field, range);
  };
  const temperature = number('temperature', { min: 0, max: 2 });
  if (temperature !== undefined) sampling.temperature = temperature;
  const topP = number('top_p', { min: 0, max: 1 });
  if (topP !== undefined) sampling.topP = topP;
  const frequencyPenalty = number('frequency_penalty', { min: -2, max: 2 });
  if (frequencyPenalty !== undefined) sampling.frequencyPenalty = frequencyPenalty;
  const presencePenalty = number('presence_penalty', { min: -2, max: 2 });
  if (presencePenalty !== undefined) sampling.presencePenalty = presencePenalty;

  const seed = optionalField(body, 'seed');
  if (seed !== undefined) sampling.seed = expectInteger(seed, 'seed');

  const topK = optionalField(body, 'top_k');
  if (topK !== undefined) {
    const k = expectInteger(topK, 'top_k');
    // -1 is vLLM's "disabled", i.e. the backend's default.
    if (k !== -1 && k < 1) invalidField('top_k', `must be -1 (disabled) or at least 1, got ${k}`);
    if (k !== -1) sampling.topK = k;
  }
  const repetitionPenalty = optionalField(body, 'repetition_penalty');
  if (repetitionPenalty !== undefined) {
    sampling.repetitionPenalty = expectNumber(repetitionPenalty, 'repetition_penalty', { min: 0, minExclusive: true });
  }
  const minTokens = optionalField(body, 'min_tokens');
  if (minTokens !== undefined) {
    const m = expectInteger(minTokens, 'min_tokens', { min: 0 });
    if (m > maxTokens) invalidField('min_tokens', `must not exceed the request's max tokens (${maxTokens}), got ${m}`);
    sampling.minTokens = m;
  }
  const ignoreEos = optionalField(body, 'ignore_eos');
  if (ignoreEos !== undefined) sampling.ignoreEos = expectBoolean(ignoreEos, 'ignore_eos');
  return sampling;
}

/** Chat: `max_completion_tokens ?? max_tokens` (both validated); completions: `max_tokens`. */
function parseMaxTokens(body: JsonObject, kind: LlmKind, limits: OpenAiLimits): number {
  const read = (field: string): number | undefined => {
    const value = optionalField(body, field);
    return value === undefined ? undefined : expectInteger(value, field, { min: 1 });
  };
  const maxTokens = read('max_tokens');
  const maxCompletionTokens = kind === 'chat' ? read('max_completion_tokens') : undefined;
  const [field, value] = maxCompletionTokens !== undefined ? ['max_completion_tokens', maxCompletionTokens] : ['max_tokens', maxTokens];
  if (value === undefined) {
    return Math.min(kind === 'chat' ? limits.defaultMaxTokens : COMPLETION_DEFAULT_MAX_TOKENS, limits.maxTokens);
  }
  if (value > limits.maxTokens) invalidField(field, `must be at most ${limits.maxTokens} (this model's limit), got ${value}`);
  return value;
}

function parseStop(value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') {
    if (value === '') invalidField('stop', 'must not be an empty string');
    return [value];
  }
  if (!Array.isArray(value)) invalidField('stop', `must be a string or an array of strings, got ${describeJson(value)}`);
  const items: unknown[] = value;
  if (items.length === 0 || items.length > MAX_STOP_SEQUENCES) {
    invalidField('stop', `must hold 1 to ${MAX_STOP_SEQUENCES} strings, got ${items.length}`);
  }
  return items.map((item, i) => {
    if (expectString(item, `stop[${i}]`) === '') invalidField(`stop[${i}]`, 'must not be an empty string');
    return item as string;
  });
}

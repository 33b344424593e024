// A /v1/chat/completions or /v1/completions body -> one validated generation request, checked as
// vLLM's OpenAI server checks it: field types, the model (404), the prompt (chat rendered with
// ChatML), the context length (vLLM's messages and params), then the sampling parameters. Those
// become the vLLM backend's `sampling_parameters` JSON and are range-checked by tiny-llm's own
// reader (parseSamplingParameters), so both APIs accept and refuse exactly the same values.
// Features tiny-llm cannot honour (logprobs, echo, beam search, tools, structured output) are
// refused with 400 instead of being silently ignored.
import { parseSamplingParameters, DEFAULT_MAX_TOKENS, type SamplingParameters } from './models/tiny-llm/sampling-parameters.js';
import { countTokens } from './models/tiny-llm/tiny-llm-tokenizer.js';
import { parseChatMessages, renderChatPrompt } from './openai-chat-prompt.js';
import { badRequest, modelNotFound } from './openai-errors.js';

export type CompletionKind = 'chat' | 'completion';

export interface OpenAiRequest {
  kind: CompletionKind;
  /** The served model the request names (the first served one when it names none, as vLLM does). */
  model: string;
  prompt: string;
  promptTokens: number;
  stream: boolean;
  /** stream_options.include_usage */
  includeUsage: boolean;
  /** The vLLM backend's sampling_parameters input, as tiny-llm will read it. */
  samplingJson: string;
  sampling: SamplingParameters;
}

type Body = Record<string, unknown>;

const present = (v: unknown): boolean => v !== undefined && v !== null;
const isObject = (v: unknown): v is Body => v !== null && typeof v === 'object' && !Array.isArray(v);
const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** Keys passed through to tiny-llm's sampling reader, whose messages start "<key> must …". */
const SAMPLING_KEYS = ['n', 'temperature', 'top_p', 'top_k', 'min_tokens', 'seed', 'stop', 'ignore_eos', 'include_stop_str_in_output'] as const;
const SAMPLING_PARAMS = new Set<string>([...SAMPLING_KEYS, 'max_tokens']);

function bool(body: Body, key: string, fallback: boolean): boolean {
  const v = body[key];
  if (!present(v)) return fallback;
  if (typeof v === 'boolean') return v;
  throw badRequest(`${key} must be a boolean, got ${show(v)}`, key);
}

function optionalNumber(body: Body, key: string): number | undefined {
  const v = body[key];
  if (!present(v)) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) throw badRequest(`${key} must be a number, got ${show(v)}`, key);
  return n;
}

/** Penalties: accepted and range-checked like vLLM's SamplingParams; tiny-llm's text ignores them. */
function checkPenalties(body: Body): void {
  for (const key of ['presence_penalty', 'frequency_penalty']) {
    const v = optionalNumber(body, key);
    if (v !== undefined && (v < -2 || v > 2)) throw badRequest(`${key} must be in [-2, 2], got ${v}.`, key);
  }
  const repetition = optionalNumber(body, 'repetition_penalty');
  if (repetition !== undefined && !(repetition > 0)) throw badRequest(`repetition_penalty must be greater than zero, got ${repetition}.`, 'repetition_penalty');
}

interface Unsupported {
  key: string;
  kinds: readonly CompletionKind[];
  /** Whether the value asks for something tiny-llm cannot do. */
  active(value: unknown, body: Body): boolean;
  message: string;
}

const UNSUPPORTED: readonly Unsupported[] = [
  { key: 'logprobs', kinds: ['chat'], active: (v) => v === true, message: 'logprobs are not supported by this model server' },
  { key: 'top_logprobs', kinds: ['chat'], active: (v) => present(v) && v !== 0, message: 'top_logprobs are not supported by this model server' },
  { key: 'logprobs', kinds: ['completion'], active: (v) => present(v), message: 'logprobs are not supported by this model server' },
  { key: 'echo', kinds: ['chat', 'completion'], active: (v) => v === true, message: 'echo is not supported by this model server' },
  { key: 'suffix', kinds: ['completion'], active: (v) => present(v), message: 'suffix is not currently supported' },
  { key: 'best_of', kinds: ['completion'], active: (v) => present(v) && v !== 1, message: 'best_of must be 1: this model server generates one sequence per request' },
  { key: 'use_beam_search', kinds: ['chat', 'completion'], active: (v) => v === true, message: 'beam search is not supported by this model server' },
  {
    key: 'tool_choice',
    kinds: ['chat'],
    active: (v, body) => Array.isArray(body['tools']) && body['tools'].length > 0 && v !== 'none',
    message: 'tiny-llm cannot call tools: send tool_choice "none" or no tools',
  },
  {
    key: 'response_format',
    kinds: ['chat', 'completion'],
    active: (v) => present(v) && !(isObject(v) && v['type'] === 'text'),
    message: 'structured output (response_format other than {"type":"text"}) is not supported by this model server',
  },
];

function checkUnsupported(kind: CompletionKind, body: Body): void {
  for (const u of UNSUPPORTED) {
    if (u.kinds.includes(kind) && u.active(body[u.key], body)) throw badRequest(u.message, u.key);
  }
}

function completionPrompt(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (!present(raw)) throw badRequest('Either prompt or prompt_embeds must be provided and non-empty.', 'prompt');
  if (Array.isArray(raw) && raw.length > 0 && raw.every((p) => typeof p === 'string')) {
    if (raw.length === 1) return raw[0] as string;
    throw badRequest(`this model server takes one prompt per request, got ${raw.length}`, 'prompt');
  }
  if (Array.isArray(raw) && raw.length > 0 && raw.every((p) => typeof p === 'number' || Array.isArray(p))) {
    throw badRequest('token id prompts are not supported: tiny-llm has no token ids; send the prompt as text', 'prompt');
  }
  throw badRequest('prompt must be a string or a list of one string', 'prompt');
}

function resolveModel(body: Body, servedModels: readonly string[]): string {
  const raw = body['model'];
  if (present(raw) && typeof raw !== 'string') throw badRequest(`model must be a string, got ${show(raw)}`, 'model');
  const name = present(raw) ? (raw as string) : servedModels[0];
  if (name === undefined || !servedModels.includes(name)) throw modelNotFound(name ?? '');
  return name;
}

function readSampling(json: string): SamplingParameters {
  try {
    return parseSamplingParameters(json);
  } catch (err) {
    const message = (err as Error).message;
    const param = /\b([a-z_]+) must\b/.exec(message)?.[1];
    throw badRequest(message, param !== undefined && SAMPLING_PARAMS.has(param) ? param : null);
  }
}

/** `maxModelLen` answers a served model's max_model_len (prompt + generated tokens). */
export function parseOpenAiRequest(kind: CompletionKind, raw: unknown, servedModels: readonly string[], maxModelLen: (model: string) => number): OpenAiRequest {
  if (!isObject(raw)) throw badRequest('the request body must be a JSON object');
  const body = raw;
  const stream = bool(body, 'stream', false);
  const streamOptions = body['stream_options'];
  if (present(streamOptions) && !isObject(streamOptions)) throw badRequest(`stream_options must be an object, got ${show(streamOptions)}`, 'stream_options');
  if (present(streamOptions) && !stream) throw badRequest('Stream options can only be defined when `stream=True`.', 'stream_options');
  const includeUsage = isObject(streamOptions) ? bool(streamOptions, 'include_usage', false) : false;
  checkUnsupported(kind, body);
  checkPenalties(body);

  const model = resolveModel(body, servedModels);
  const prompt = kind === 'chat'
    ? renderChatPrompt(parseChatMessages(body['messages']), bool(body, 'add_generation_prompt', true))
    : completionPrompt(body['prompt']);
  const promptTokens = countTokens(prompt);
  if (promptTokens === 0) throw badRequest('The decoder prompt cannot be empty', kind === 'chat' ? 'messages' : 'prompt');
  const contextLength = maxModelLen(model);
  if (promptTokens >= contextLength) {
    throw badRequest(
      `This model's maximum context length is ${contextLength} tokens. However, your request has ${promptTokens} input tokens. ` +
        'Please reduce the length of the input messages.',
      'input_tokens',
    );
  }

  // vLLM: max_completion_tokens ?? max_tokens; without either, chat may use the rest of the context.
  const explicit = kind === 'chat' && present(body['max_completion_tokens']) ? body['max_completion_tokens'] : body['max_tokens'];
  const room = contextLength - promptTokens;
  const samplingBody: Body = { max_tokens: present(explicit) ? explicit : kind === 'chat' ? room : Math.min(DEFAULT_MAX_TOKENS, room) };
  for (const key of SAMPLING_KEYS) if (present(body[key])) samplingBody[key] = body[key];
  const samplingJson = JSON.stringify(samplingBody);
  const sampling = readSampling(samplingJson);
  if (present(explicit) && sampling.maxTokens > room) {
    throw badRequest(
      `'max_tokens' or 'max_completion_tokens' is too large: ${sampling.maxTokens}. This model's maximum context length is ` +
        `${contextLength} tokens and your request has ${promptTokens} input tokens (${sampling.maxTokens} > ${contextLength} - ${promptTokens}).`,
      'max_tokens',
    );
  }
  return { kind, model, prompt, promptTokens, stream, includeUsage, samplingJson, sampling };
}

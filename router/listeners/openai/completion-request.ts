// Validates a legacy `POST /v1/completions` body into an LlmRequest: one text prompt plus the shared
// fields. Token-id prompts, several prompts, echo, suffix, best_of and logprobs are 400s naming the field.
import type { LlmRequest } from '../../core/llm.js';
import { describeJson, expectBoolean, expectInteger, expectString, invalidField, optionalField, requiredField, type JsonObject } from './field-checks.js';
import { parseSharedFields, type OpenAiLimits } from './sampling-fields.js';

/** The completion-only fields this file reads (shared and ignored ones live in sampling-fields.ts). */
export const COMPLETION_FIELDS: ReadonlySet<string> = new Set(['prompt', 'echo', 'suffix', 'best_of']);

export function parseCompletionRequest(body: JsonObject, limits: OpenAiLimits): LlmRequest {
  const shared = parseSharedFields(body, 'completion', COMPLETION_FIELDS, limits);
  const prompt = parsePrompt(requiredField(body, 'prompt', 'prompt'), limits);
  rejectUnsupported(body);
  return { kind: 'completion', model: shared.model, prompt, sampling: shared.sampling, stream: shared.stream, includeUsage: shared.includeUsage, body };
}

/** A string, or an array holding exactly one string (what SDKs send for a single prompt in list form). */
function parsePrompt(value: unknown, limits: OpenAiLimits): string {
  let prompt: string;
  if (typeof value === 'string') {
    prompt = value;
  } else if (Array.isArray(value)) {
    const items: unknown[] = value;
    if (items.length === 0) invalidField('prompt', 'must not be an empty array');
    if (items.every((item) => typeof item === 'number' || Array.isArray(item))) {
      invalidField('prompt', 'token-id prompts are not supported: send the prompt as text');
    }
    if (items.length > 1) invalidField('prompt', `holds ${items.length} prompts; several prompts in one request are not supported: send one per request`);
    if (typeof items[0] !== 'string') invalidField('prompt', `must be a string or an array of one string, got an array of ${describeJson(items[0])}`);
    prompt = items[0];
  } else {
    return invalidField('prompt', `must be a string or an array of one string, got ${describeJson(value)}`);
  }
  if (prompt === '') invalidField('prompt', 'must not be empty');
  if (prompt.length > limits.maxPromptChars) {
    invalidField('prompt', `is ${prompt.length} characters, above this model's limit of ${limits.maxPromptChars}`);
  }
  return prompt;
}

function rejectUnsupported(body: JsonObject): void {
  const logprobs = optionalField(body, 'logprobs');
  if (logprobs !== undefined && expectInteger(logprobs, 'logprobs', { min: 0, max: 5 }) > 0) {
    invalidField('logprobs', 'is not supported: log probabilities are not returned');
  }
  const echo = optionalField(body, 'echo');
  if (echo !== undefined && expectBoolean(echo, 'echo')) invalidField('echo', 'true is not supported: the prompt is not echoed');
  const suffix = optionalField(body, 'suffix');
  if (suffix !== undefined && expectString(suffix, 'suffix') !== '') invalidField('suffix', 'is not supported: insertion is not offered');
  const bestOf = optionalField(body, 'best_of');
  if (bestOf !== undefined && expectInteger(bestOf, 'best_of', { min: 0, max: 20 }) > 1) {
    invalidField('best_of', 'must be at most 1: best_of > 1 is not supported; ask for one completion per request');
  }
}

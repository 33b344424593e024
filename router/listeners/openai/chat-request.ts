// Validates a `POST /v1/chat/completions` body into an LlmRequest: the conversation, normalised to
// text-only ChatMessages, plus the shared fields. Valid OpenAI features the router does not offer
// (tools, logprobs, images, structured output, …) are 400s naming the field, as Triton's OpenAI
// frontend and vLLM answer, not 501s.
import type { ChatMessage, LlmRequest } from '../../core/llm.js';
import {
  describeJson, expectArray, expectBoolean, expectObject, expectString, invalidField, optionalField, requiredField,
  type JsonObject,
} from './field-checks.js';
import { parseSharedFields, type OpenAiLimits } from './sampling-fields.js';

/** The chat-only fields this file reads (shared and ignored ones live in sampling-fields.ts). */
export const CHAT_FIELDS: ReadonlySet<string> = new Set([
  'messages', 'max_completion_tokens', 'top_logprobs', 'tools', 'tool_choice', 'functions', 'function_call',
  'response_format', 'audio', 'modalities', 'prediction', 'web_search_options',
]);

const ROLES: ReadonlySet<string> = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
/** Content parts for images, audio, video and files (OpenAI's and vLLM's): valid, but the models served take text. */
const MEDIA_PARTS: ReadonlySet<string> = new Set(['image_url', 'input_audio', 'file', 'audio_url', 'video_url', 'image_embeds']);

export function parseChatRequest(body: JsonObject, limits: OpenAiLimits): LlmRequest {
  const shared = parseSharedFields(body, 'chat', CHAT_FIELDS, limits);
  const messages = parseMessages(requiredField(body, 'messages', 'messages'), limits);
  rejectUnsupported(body);
  return { kind: 'chat', model: shared.model, messages, sampling: shared.sampling, stream: shared.stream, includeUsage: shared.includeUsage, body };
}

function parseMessages(value: unknown, limits: OpenAiLimits): ChatMessage[] {
  const items = expectArray(value, 'messages');
  if (items.length === 0) invalidField('messages', 'must hold at least one message');
  if (items.length > limits.maxMessages) {
    invalidField('messages', `holds ${items.length} messages, above this model's limit of ${limits.maxMessages}`);
  }
  const messages = items.map((item, i) => parseMessage(item, `messages[${i}]`));
  const chars = messages.reduce((sum, m) => sum + (m.content?.length ?? 0), 0);
  if (chars > limits.maxPromptChars) {
    invalidField('messages', `content totals ${chars} characters, above this model's limit of ${limits.maxPromptChars}`);
  }
  return messages;
}

function parseMessage(item: unknown, path: string): ChatMessage {
  const message = expectObject(item, path);
  const role = expectString(requiredField(message, 'role', `${path}.role`), `${path}.role`);
  if (role === 'function') invalidField(`${path}.role`, "'function' is not supported: function calling is not offered");
  if (!ROLES.has(role)) invalidField(`${path}.role`, `must be one of ${[...ROLES].join(', ')}, got '${role}'`);

  if (role === 'assistant') {
    // A replayed response message carries these as null or []; anything more is a tool call.
    const toolCalls = optionalField(message, 'tool_calls');
    if (toolCalls !== undefined && expectArray(toolCalls, `${path}.tool_calls`).length > 0) {
      invalidField(`${path}.tool_calls`, 'are not supported: tool calling is not offered');
    }
    if (optionalField(message, 'function_call') !== undefined) {
      invalidField(`${path}.function_call`, 'is not supported: function calling is not offered');
    }
    if (optionalField(message, 'audio') !== undefined) invalidField(`${path}.audio`, 'is not supported: this model takes text only');
  }
  if (role === 'tool') {
    expectString(requiredField(message, 'tool_call_id', `${path}.tool_call_id`), `${path}.tool_call_id`);
  }

  const content = parseContent(optionalField(message, 'content'), `${path}.content`, role);
  const name = optionalField(message, 'name');
  return name === undefined
    ? { role: role as ChatMessage['role'], content }
    : { role: role as ChatMessage['role'], content, name: expectString(name, `${path}.name`) };
}

/** A string, or text parts joined with ''. An assistant's refusal parts are text it said, so they count too. */
function parseContent(value: unknown, path: string, role: string): string {
  if (value === undefined) {
    invalidField(path, role === 'assistant' ? 'is required (an assistant message without content needs tool calls, which are not supported)' : 'is required');
  }
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) invalidField(path, `must be a string or an array of content parts, got ${describeJson(value)}`);
  const parts: unknown[] = value;
  if (parts.length === 0) invalidField(path, 'must hold at least one content part');
  return parts.map((item, j) => {
    const partPath = `${path}[${j}]`;
    const part = expectObject(item, partPath);
    const type = expectString(requiredField(part, 'type', `${partPath}.type`), `${partPath}.type`);
    if (type === 'text') return expectString(requiredField(part, 'text', `${partPath}.text`), `${partPath}.text`);
    if (type === 'refusal' && role === 'assistant') {
      return expectString(requiredField(part, 'refusal', `${partPath}.refusal`), `${partPath}.refusal`);
    }
    if (MEDIA_PARTS.has(type)) invalidField(`${partPath}.type`, `'${type}' is not supported: this model takes text only`);
    return invalidField(`${partPath}.type`, `must be 'text'${role === 'assistant' ? " or 'refusal'" : ''}, got '${type}'`);
  }).join('');
}

function rejectUnsupported(body: JsonObject): void {
  const tools = optionalField(body, 'tools');
  if (tools !== undefined && expectArray(tools, 'tools').length > 0) invalidField('tools', 'are not supported: tool calling is not offered');
  const toolChoice = optionalField(body, 'tool_choice');
  if (toolChoice !== undefined && toolChoice !== 'none') invalidField('tool_choice', "is not supported (only 'none'): tool calling is not offered");
  const functions = optionalField(body, 'functions');
  if (functions !== undefined && expectArray(functions, 'functions').length > 0) {
    invalidField('functions', 'are not supported: function calling is not offered');
  }
  const functionCall = optionalField(body, 'function_call');
  if (functionCall !== undefined && functionCall !== 'none') invalidField('function_call', "is not supported (only 'none'): function calling is not offered");

  // top_logprobs first, so that without logprobs it gets the message that explains the pairing.
  const logprobsValue = optionalField(body, 'logprobs');
  const logprobs = logprobsValue === undefined ? false : expectBoolean(logprobsValue, 'logprobs');
  if (optionalField(body, 'top_logprobs') !== undefined) {
    invalidField('top_logprobs', logprobs ? 'is not supported: log probabilities are not returned' : 'requires logprobs: true (and log probabilities are not supported)');
  }
  if (logprobs) invalidField('logprobs', 'true is not supported: log probabilities are not returned');

  const responseFormat = optionalField(body, 'response_format');
  if (responseFormat !== undefined) {
    const format = expectObject(responseFormat, 'response_format');
    const type = expectString(requiredField(format, 'type', 'response_format.type'), 'response_format.type');
    if (type !== 'text') invalidField('response_format', `type '${type}' is not supported: only {"type": "text"}`);
  }
  if (optionalField(body, 'audio') !== undefined) invalidField('audio', 'is not supported: this model produces text only');
  const modalities = optionalField(body, 'modalities');
  if (modalities !== undefined) {
    const list = expectArray(modalities, 'modalities');
    if (list.length !== 1 || list[0] !== 'text') invalidField('modalities', 'must be ["text"]: this model produces text only');
  }
  if (optionalField(body, 'prediction') !== undefined) invalidField('prediction', 'is not supported: predicted outputs are not offered');
  if (optionalField(body, 'web_search_options') !== undefined) invalidField('web_search_options', 'is not supported: web search is not offered');
}

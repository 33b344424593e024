// The bodies vLLM's OpenAI server answers with, for chat and text completions: the non-stream
// responses, the stream chunks (role, content, finish, usage) and the model list. Shapes and field
// order follow vLLM; stop_reason is always null here (vLLM puts the matched stop string there).
import { randomUUID } from 'node:crypto';
import type { FinishReason } from './models/tiny-llm/tiny-llm-generator.js';
import type { CompletionKind } from './openai-request.js';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: null;
}

/** What every chunk and response of one request shares. */
export interface ResponseHead {
  kind: CompletionKind;
  id: string;
  created: number;
  model: string;
}

export function responseHead(kind: CompletionKind, model: string): ResponseHead {
  const hex = randomUUID().replace(/-/g, '');
  return { kind, id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${hex}`, created: Math.floor(Date.now() / 1000), model };
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens, prompt_tokens_details: null };
}

const objectName = (head: ResponseHead, chunk: boolean): string =>
  head.kind === 'chat' ? (chunk ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion';

export function completionBody(head: ResponseHead, text: string, finishReason: FinishReason, counts: Usage): Record<string, unknown> {
  const base = { id: head.id, object: objectName(head, false), created: head.created, model: head.model };
  if (head.kind === 'chat') {
    return {
      ...base,
      choices: [{
        index: 0,
        message: { role: 'assistant', content: text, refusal: null, tool_calls: [], reasoning: null },
        logprobs: null,
        finish_reason: finishReason,
        stop_reason: null,
      }],
      usage: counts,
      prompt_logprobs: null,
    };
  }
  return {
    ...base,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null }],
    usage: counts,
  };
}

function chunk(head: ResponseHead, choices: unknown[]): Record<string, unknown> {
  const base = { id: head.id, object: objectName(head, true), created: head.created, model: head.model, choices };
  // vLLM dumps chat chunks with exclude_unset (no usage key) and completion chunks in full.
  return head.kind === 'chat' ? base : { ...base, usage: null };
}

/** Chat only: the first chunk, before any content. */
export function roleChunk(head: ResponseHead): Record<string, unknown> {
  return chunk(head, [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
}

/** Generated text; with a finish reason it is the last choice chunk (its text may be empty). */
export function contentChunk(head: ResponseHead, text: string, finishReason: FinishReason | null = null): Record<string, unknown> {
  if (head.kind === 'chat') {
    const delta = text === '' && finishReason !== null ? {} : { content: text };
    const choice = finishReason === null
      ? { index: 0, delta, logprobs: null, finish_reason: null }
      : { index: 0, delta, logprobs: null, finish_reason: finishReason, stop_reason: null };
    return chunk(head, [choice]);
  }
  return chunk(head, [{ index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null }]);
}

/** stream_options.include_usage: the extra chunk before [DONE]. */
export function usageChunk(head: ResponseHead, counts: Usage): Record<string, unknown> {
  return { id: head.id, object: objectName(head, true), created: head.created, model: head.model, choices: [], usage: counts };
}

export function modelList(models: readonly string[], maxModelLen: (model: string) => number): Record<string, unknown> {
  const created = Math.floor(Date.now() / 1000);
  return {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created, owned_by: 'vllm', root: id, parent: null, max_model_len: maxModelLen(id), permission: [] })),
  };
}

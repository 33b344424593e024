// OpenAI response bodies and SSE frames for chat completions and legacy completions, built from
// LlmEvents. Content frames are the hot path: their JSON around the text is serialised once per
// response, so each token costs one JSON.stringify of its text only.
import { randomUUID } from 'node:crypto';
import type { FinishReason, LlmKind, LlmUsage } from '../../core/llm.js';

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function openAiUsage(usage: LlmUsage): OpenAiUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

/** What every response (and every chunk of one stream) shares. */
export class ResponseIdentity {
  readonly id: string;
  readonly created = Math.floor(Date.now() / 1000);

  constructor(
    readonly kind: LlmKind,
    readonly model: string,
  ) {
    this.id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replaceAll('-', '')}`;
  }

  get object(): string {
    return this.kind === 'chat' ? 'chat.completion' : 'text_completion';
  }

  get chunkObject(): string {
    return this.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  }
}

export function completeBody(identity: ResponseIdentity, text: string, finishReason: FinishReason, usage: LlmUsage): Record<string, unknown> {
  const choice =
    identity.kind === 'chat'
      ? { index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finishReason }
      : { index: 0, text, logprobs: null, finish_reason: finishReason };
  return {
    id: identity.id,
    object: identity.object,
    created: identity.created,
    model: identity.model,
    choices: [choice],
    usage: openAiUsage(usage),
  };
}

/** The SSE frames of one streamed response, in OpenAI's framing: `data: <json>\n\n`, then `data: [DONE]`. */
export class StreamFrames {
  readonly #identity: ResponseIdentity;
  readonly #includeUsage: boolean;
  readonly #contentPrefix: string;
  readonly #contentSuffix: string;

  constructor(identity: ResponseIdentity, includeUsage: boolean) {
    this.#identity = identity;
    this.#includeUsage = includeUsage;
    // Split a serialised content chunk around a marker once; per token only the text is encoded.
    const marker = '\u0000';
    const template = JSON.stringify(this.#chunk(identity.kind === 'chat' ? { delta: { content: marker } } : { text: marker }, null));
    const at = template.indexOf(JSON.stringify(marker));
    this.#contentPrefix = `data: ${template.slice(0, at)}`;
    this.#contentSuffix = `${template.slice(at + JSON.stringify(marker).length)}\n\n`;
  }

  /** Chat only: the first chunk names the role. */
  role(): string {
    return frame(this.#chunk({ delta: { role: 'assistant', content: '' } }, null));
  }

  content(text: string): string {
    return this.#contentPrefix + JSON.stringify(text) + this.#contentSuffix;
  }

  finish(reason: FinishReason): string {
    return frame(this.#chunk(this.#identity.kind === 'chat' ? { delta: {} } : { text: '' }, reason));
  }

  /** Only when the client asked for it (stream_options.include_usage): a chunk with no choices. */
  usage(usage: LlmUsage): string {
    if (!this.#includeUsage) return '';
    const { id, created, model, chunkObject } = this.#identity;
    return frame({ id, object: chunkObject, created, model, choices: [], usage: openAiUsage(usage) });
  }

  error(error: unknown): string {
    return frame({ error });
  }

  done(): string {
    return 'data: [DONE]\n\n';
  }

  #chunk(choice: Record<string, unknown>, finishReason: FinishReason | null): Record<string, unknown> {
    const { id, created, model, chunkObject } = this.#identity;
    const chunk: Record<string, unknown> = {
      id,
      object: chunkObject,
      created,
      model,
      choices: [{ index: 0, ...choice, logprobs: null, finish_reason: finishReason }],
    };
    // With include_usage every chunk but the last carries usage: null (OpenAI's documented shape).
    if (this.#includeUsage) chunk.usage = null;
    return chunk;
  }
}

function frame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

// The protocol-neutral form of one text-generation request and its results. The OpenAI listener
// produces an LlmRequest; backends consume it (Triton through an adapter profile, vLLM's OpenAI
// server by forwarding the client's own body) and answer with LlmEvents or a byte relay.
import type { Readable } from 'node:stream';

export type LlmKind = 'chat' | 'completion';

export interface ChatMessage {
  readonly role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  /** Text parts already joined; null only for an assistant message that carried tool calls. */
  readonly content: string | null;
  readonly name?: string;
}

/** Sampling settings after validation, in OpenAI's meaning; undefined = the backend's default. */
export interface SamplingParams {
  /** `max_completion_tokens ?? max_tokens`, already bounded by the route's limit. */
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly stop: readonly string[];
  readonly seed?: number;
  readonly frequencyPenalty?: number;
  readonly presencePenalty?: number;
  readonly repetitionPenalty?: number;
  readonly minTokens?: number;
  readonly ignoreEos?: boolean;
}

export interface LlmRequest {
  readonly kind: LlmKind;
  /** The model the client asked for (what every response names). */
  readonly model: string;
  /** kind 'chat': the conversation; the backend renders it with the model's chat template. */
  readonly messages?: readonly ChatMessage[];
  /** kind 'completion': the prompt, verbatim. */
  readonly prompt?: string;
  readonly sampling: SamplingParams;
  readonly stream: boolean;
  /** `stream_options.include_usage`. */
  readonly includeUsage: boolean;
  /** The validated client body, for backends that speak OpenAI themselves (forwarded as is). */
  readonly body: Readonly<Record<string, unknown>>;
}

/** How a Triton LLM model wants its tensors; chosen per model in config. */
export type TritonLlmProfileName = 'vllm-backend' | 'trtllm-ensemble';

/** What routing resolved for one LLM request: where it goes upstream and how to talk to it there. */
export interface LlmUpstream {
  readonly model: string;
  readonly version: string;
  readonly profile: TritonLlmProfileName;
  /** Jinja chat template source (Hugging Face tokenizer_config.json dialect); undefined = ChatML. */
  readonly chatTemplate: string | undefined;
  /** Extra variables the template sees (bos_token, eos_token, …). */
  readonly templateVariables: Readonly<Record<string, string>>;
}

export type FinishReason = 'stop' | 'length';

export interface LlmUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export type LlmEvent =
  /** Generated text since the previous delta. */
  | { readonly type: 'delta'; readonly text: string }
  /** The last event of a successful generation. */
  | { readonly type: 'end'; readonly finishReason: FinishReason; readonly usage: LlmUsage };

/** What a backend answers. Errors before the first event are thrown; later ones end the iterator with a throw. */
export type LlmResult =
  | { readonly kind: 'events'; readonly events: AsyncIterable<LlmEvent> }
  /** An OpenAI-speaking upstream's successful answer, relayed byte for byte (model name rewritten by the upstream call). */
  | { readonly kind: 'relay'; readonly status: number; readonly contentType: string; readonly body: Readable };

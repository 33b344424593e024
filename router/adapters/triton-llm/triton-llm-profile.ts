// The contract between the Triton LLM backend and a tensor profile: one request out, a decoder for what comes back.
// The lookup by name is in triton-llm-profiles.ts (the profiles import this file, so it cannot import them).
import type { FinishReason, LlmUsage, SamplingParams, TritonLlmProfileName } from '../../core/llm.js';
import type { ModelInferRequest } from '../../generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../../generated/inference/ModelInferResponse.js';

export interface TritonLlmRequestInput {
  readonly prompt: string;
  readonly sampling: SamplingParams;
  readonly stream: boolean;
  readonly upstream: { readonly model: string; readonly version: string };
  /** The request id; Triton echoes it on every response of this request. */
  readonly id: string;
}

export interface TritonLlmProfile {
  readonly name: TritonLlmProfileName;
  /** The one ModelInferRequest for a generation, sent on its own ModelStreamInfer call. */
  buildRequest(input: TritonLlmRequestInput): ModelInferRequest;
  /** A decoder for the responses of one request. */
  createDecoder(sampling: SamplingParams, stream: boolean): TritonLlmDecoder;
}

/** What one upstream response contributes: text to emit now ('' allowed) and, on the final response, how it ended. */
export interface TritonLlmStep {
  readonly delta: string;
  readonly end?: { readonly finishReason: FinishReason; readonly usage: LlmUsage };
}

export interface TritonLlmDecoder {
  /** One upstream response (error_message already checked by the caller), in arrival order. */
  push(response: ModelInferResponse__Output): TritonLlmStep;
}

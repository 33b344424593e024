// The Triton vLLM backend's tensors (max_batch_size 0: no batch dim): the prompt and a JSON of vLLM SamplingParams in,
// text, finish_reason and token counts out.
import { StringDecoder } from 'node:string_decoder';
import { SwitchyardError } from '../../core/errors.js';
import type { FinishReason, SamplingParams } from '../../core/llm.js';
import type { ModelInferResponse__Output } from '../../generated/inference/ModelInferResponse.js';
import { InferRequestBuilder } from './infer-request-builder.js';
import { ResponseTensors } from './response-tensors.js';
import { TokenUsageCounter } from './token-usage-counter.js';
import type { TritonLlmDecoder, TritonLlmProfile, TritonLlmStep } from './triton-llm-profile.js';

export const vllmBackendProfile: TritonLlmProfile = {
  name: 'vllm-backend',

  buildRequest({ prompt, sampling, stream, upstream, id }) {
    return new InferRequestBuilder()
      .add('text_input', 'BYTES', [1], [prompt])
      .add('stream', 'BOOL', [1], [stream])
      // Streaming with the prompt echoed is an error in the backend; non-streaming would prepend it to the text.
      .add('exclude_input_in_output', 'BOOL', [1], [true])
      .add('sampling_parameters', 'BYTES', [1], [JSON.stringify(vllmSamplingParameters(sampling))])
      .add('return_finish_reason', 'BOOL', [1], [true])
      .add('return_num_input_tokens', 'BOOL', [1], [true])
      .add('return_num_output_tokens', 'BOOL', [1], [true])
      .build(upstream, id);
  },

  createDecoder() {
    return new VllmBackendDecoder();
  },
};

/** vLLM SamplingParams field names; only what the client set, so vLLM's defaults apply to the rest. */
export function vllmSamplingParameters(sampling: SamplingParams): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    max_tokens: sampling.maxTokens,
    temperature: sampling.temperature,
    top_p: sampling.topP,
    top_k: sampling.topK,
    stop: sampling.stop.length > 0 ? [...sampling.stop] : undefined,
    seed: sampling.seed,
    frequency_penalty: sampling.frequencyPenalty,
    presence_penalty: sampling.presencePenalty,
    repetition_penalty: sampling.repetitionPenalty,
    min_tokens: sampling.minTokens,
    ignore_eos: sampling.ignoreEos,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/**
 * text_output is the delta when streaming and the whole text otherwise (the prompt excluded either way), so both
 * modes just pass it on. finish_reason reads "None" until vLLM marks the request finished.
 */
export class VllmBackendDecoder implements TritonLlmDecoder {
  private readonly utf8 = new StringDecoder('utf8');
  private readonly usage = new TokenUsageCounter();
  private finishReason: string | undefined;
  private ended = false;

  push(response: ModelInferResponse__Output): TritonLlmStep {
    if (this.ended) throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', 'upstream sent a response after the final one');
    const tensors = new ResponseTensors(response);
    let delta = '';
    if (!tensors.empty) {
      delta = this.utf8.write(tensors.bytes('text_output'));
      this.finishReason = tensors.text('finish_reason');
      this.usage.add(tensors);
    }
    if (!tensors.final) return { delta };
    this.ended = true;
    // A flags-only final leaves finish_reason and the counts as the earlier responses reported them.
    if (this.finishReason === undefined) {
      throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', "upstream sent no output 'finish_reason' in any response of the request");
    }
    return { delta: delta + this.utf8.end(), end: { finishReason: mapFinishReason(this.finishReason), usage: this.usage.usage() } };
  }
}

function mapFinishReason(reason: string): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'abort') {
    throw new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', 'upstream aborted the generation', { canonical: 'ABORTED' });
  }
  // 'stop', and whatever else vLLM may report for a request that ended normally.
  return 'stop';
}

// The TensorRT-LLM `ensemble` model's tensors (max_batch_size > 0: every tensor has a batch dim of 1): one tensor per
// sampling setting in; text and token counts out, with the stop strings cut here because TRT-LLM keeps them.
import { StringDecoder } from 'node:string_decoder';
import { SwitchyardError } from '../../core/errors.js';
import type { FinishReason, SamplingParams } from '../../core/llm.js';
import type { ModelInferResponse__Output } from '../../generated/inference/ModelInferResponse.js';
import { InferRequestBuilder } from './infer-request-builder.js';
import { ResponseTensors } from './response-tensors.js';
import { StopStringCutter } from './stop-string-cutter.js';
import { TokenUsageCounter } from './token-usage-counter.js';
import type { TritonLlmDecoder, TritonLlmProfile, TritonLlmStep } from './triton-llm-profile.js';

/** [batch, 1]: the ensemble's scalar inputs are dims [1] after the batch dim. */
const SCALAR = [1, 1] as const;

export const trtllmEnsembleProfile: TritonLlmProfile = {
  name: 'trtllm-ensemble',

  buildRequest({ prompt, sampling, stream, upstream, id }) {
    const request = new InferRequestBuilder()
      .add('text_input', 'BYTES', SCALAR, [[prompt]])
      .add('max_tokens', 'INT32', SCALAR, [[sampling.maxTokens]])
      .add('stream', 'BOOL', SCALAR, [[stream]])
      .add('exclude_input_in_output', 'BOOL', SCALAR, [[true]]);
    const optional = (name: string, datatype: 'FP32' | 'INT32' | 'UINT64', value: number | undefined): void => {
      if (value !== undefined) request.add(name, datatype, SCALAR, [[value]]);
    };
    optional('temperature', 'FP32', sampling.temperature);
    optional('top_p', 'FP32', sampling.topP);
    optional('top_k', 'INT32', sampling.topK);
    optional('frequency_penalty', 'FP32', sampling.frequencyPenalty);
    optional('presence_penalty', 'FP32', sampling.presencePenalty);
    optional('repetition_penalty', 'FP32', sampling.repetitionPenalty);
    optional('min_tokens', 'INT32', sampling.minTokens);
    optional('seed', 'UINT64', sampling.seed);
    // Plain strings; the ensemble's preprocessing model tokenizes them. ignoreEos has no ensemble input.
    if (sampling.stop.length > 0) request.add('stop_words', 'BYTES', [1, sampling.stop.length], [[...sampling.stop]]);
    return request
      .add('return_num_input_tokens', 'BOOL', SCALAR, [[true]])
      .add('return_num_output_tokens', 'BOOL', SCALAR, [[true]])
      .build(upstream, id);
  },

  createDecoder(sampling) {
    return new TrtllmEnsembleDecoder(sampling);
  },
};

/**
 * text_output is the delta when streaming and the whole text otherwise. There is no finish_reason output: a cut
 * stop string means 'stop', reaching max_tokens means 'length'.
 */
export class TrtllmEnsembleDecoder implements TritonLlmDecoder {
  private readonly utf8 = new StringDecoder('utf8');
  private readonly usage = new TokenUsageCounter();
  private readonly cutter: StopStringCutter;
  private readonly maxTokens: number;
  private ended = false;

  constructor(sampling: SamplingParams) {
    this.cutter = new StopStringCutter(sampling.stop);
    this.maxTokens = sampling.maxTokens;
  }

  push(response: ModelInferResponse__Output): TritonLlmStep {
    if (this.ended) throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', 'upstream sent a response after the final one');
    const tensors = new ResponseTensors(response);
    let delta = '';
    if (!tensors.empty) {
      // Decoded even after a stop string so the output stays checked; the cutter drops it.
      delta = this.cutter.push(this.utf8.write(tensors.bytes('text_output')));
      this.usage.add(tensors);
    }
    if (!tensors.final) return { delta };
    this.ended = true;
    delta += this.cutter.push(this.utf8.end()) + this.cutter.finish();
    return { delta, end: { finishReason: this.finishReason(), usage: this.usage.usage() } };
  }

  private finishReason(): FinishReason {
    if (this.cutter.stopped) return 'stop';
    return this.usage.completion >= this.maxTokens ? 'length' : 'stop';
  }
}

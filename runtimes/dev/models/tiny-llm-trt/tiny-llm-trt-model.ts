// The served `tiny-llm-trt` model: TensorRT-LLM's `ensemble` tensor contract (platform ensemble,
// max_batch_size 8, decoupled) over tiny-llm's deterministic generator, run by tiny-llm's
// GenerationRunner (cost model, concurrency, cancellation, statistics). Owns the contract, the
// stop-word handling (kept in the text) and the stream's end: one response per token, none of
// them final, then the flags-only final TensorRT-LLM ends a stream with (Triton drops it unless
// the request opted in); a non-streaming request gets one final response.
import { jsonToRaw, joinBytesElements, type RawTensor } from '../../../../router/adapters/kserve-tensor/index.js';
import type { CostModel } from '../../cost-model.js';
import type { ModelSpec, TensorSpec } from '../../model-spec.js';
import { ModelStats } from '../../model-statistics.js';
import type { InferCall, ServedModel } from '../../served-model.js';
import { GenerationRunner } from '../tiny-llm/generation-runner.js';
import { readEnsembleRequest, type EnsembleRequest } from './ensemble-request.js';

export const TINY_LLM_TRT = 'tiny-llm-trt';

/** The ensemble's max_batch_size: every tensor carries a leading batch dim. */
export const MAX_BATCH_SIZE = 8;

export interface TinyLlmTrtModelOptions {
  instances: number;
  maxSequences: number;
  cost: CostModel;
}

const scalar = (name: string, datatype: TensorSpec['datatype']): TensorSpec => ({ name, datatype, dims: [1], optional: true });

/** The inputs of tensorrtllm_backend's all_models/inflight_batcher_llm/ensemble that this model reads or checks. */
const INPUTS: TensorSpec[] = [
  { name: 'text_input', datatype: 'BYTES', dims: [1] },
  { name: 'max_tokens', datatype: 'INT32', dims: [1] },
  scalar('stream', 'BOOL'),
  scalar('exclude_input_in_output', 'BOOL'),
  { name: 'stop_words', datatype: 'BYTES', dims: [-1], optional: true },
  { name: 'bad_words', datatype: 'BYTES', dims: [-1], optional: true },
  scalar('end_id', 'INT32'),
  scalar('pad_id', 'INT32'),
  scalar('top_k', 'INT32'),
  scalar('top_p', 'FP32'),
  scalar('temperature', 'FP32'),
  scalar('length_penalty', 'FP32'),
  scalar('repetition_penalty', 'FP32'),
  scalar('presence_penalty', 'FP32'),
  scalar('frequency_penalty', 'FP32'),
  scalar('min_tokens', 'INT32'),
  scalar('beam_width', 'INT32'),
  scalar('seed', 'UINT64'),
  scalar('return_log_probs', 'BOOL'),
  scalar('return_num_input_tokens', 'BOOL'),
  scalar('return_num_output_tokens', 'BOOL'),
];

const OUTPUTS: TensorSpec[] = [
  { name: 'text_output', datatype: 'BYTES', dims: [-1] },
  { name: 'num_input_tokens', datatype: 'INT32', dims: [1] },
  { name: 'num_output_tokens', datatype: 'INT32', dims: [1] },
  { name: 'batch_index', datatype: 'INT32', dims: [1] },
  { name: 'sequence_index', datatype: 'INT32', dims: [1] },
];

/** Every output is [batch, 1]; the batch is always 1 here. */
const bytesTensor = (name: string, value: string): RawTensor => ({
  name, datatype: 'BYTES', shape: [1, 1], raw: joinBytesElements([Buffer.from(value, 'utf8')]),
});

const int32Tensor = (name: string, value: number): RawTensor => ({
  name, datatype: 'INT32', shape: [1, 1], raw: jsonToRaw(name, 'INT32', [1, 1], [value]),
});

export class TinyLlmTrtModel implements ServedModel {
  readonly spec: ModelSpec;
  readonly stats = new ModelStats(TINY_LLM_TRT);
  readonly #runner: GenerationRunner;

  constructor(options: TinyLlmTrtModelOptions) {
    this.spec = {
      name: TINY_LLM_TRT,
      backend: '',
      platform: 'ensemble',
      maxBatchSize: MAX_BATCH_SIZE,
      inputs: INPUTS,
      outputs: OUTPUTS,
      decoupled: true,
      dynamicBatching: false,
      instanceCount: options.instances,
      instanceKind: 'KIND_MODEL',
    };
    this.#runner = new GenerationRunner({
      modelName: this.spec.name, stats: this.stats, instances: options.instances, maxSequences: options.maxSequences, cost: options.cost,
    });
  }

  async execute(call: InferCall): Promise<void> {
    const trt = readEnsembleRequest(this.spec.name, call.request);
    await this.#runner.run(call, {
      prompt: trt.prompt,
      promptTokens: trt.promptTokens,
      stream: trt.stream,
      prependInput: !trt.excludeInput,
      // TensorRT-LLM detokenizes every output id, so a stop word stays in the text.
      generation: {
        maxTokens: trt.maxTokens,
        stop: trt.stopWords,
        seed: trt.seed,
        includeStopStrInOutput: true,
        minTokens: trt.minTokens,
      },
      // TensorRT-LLM ends a stream with a flags-only final; no token response is final.
      finalResponse: 'empty',
      outputs: (textOutput, _finishReason, outputTokens) => this.#outputs(trt, textOutput, outputTokens),
    });
  }

  /** text_output, the token counts when asked for, and batch/sequence index (always 0: one sequence). */
  #outputs(trt: EnsembleRequest, textOutput: string, outputTokens: number): RawTensor[] {
    const outputs = [bytesTensor('text_output', textOutput)];
    if (trt.returnNumInputTokens) outputs.push(int32Tensor('num_input_tokens', trt.promptTokens));
    if (trt.returnNumOutputTokens) outputs.push(int32Tensor('num_output_tokens', outputTokens));
    outputs.push(int32Tensor('batch_index', 0), int32Tensor('sequence_index', 0));
    return outputs;
  }
}

// The served `tiny-llm` model (also `llama3` under an LLM profile, then timed by the profile's
// continuous-batching engines): the Triton vLLM backend's tensor contract (decoupled,
// max_batch_size 0) over TinyLlmGeneration, run by GenerationRunner (prefill + per-token latency,
// at most `instances * maxSequences` sequences at once, FIFO beyond, generation stopped at once
// when the client cancels). Owns reading the inputs, vLLM's stop-string handling and outputs, and
// how a stream ends (`--llm-final-response`). Backend errors carry the vLLM backend's
// "Error generating stream: " prefix and code INTERNAL, as that backend reports them.
import { status } from '@grpc/grpc-js';
import { jsonToRaw, joinBytesElements, splitBytesElements, type RawTensor } from '../../../../router/adapters/kserve-tensor/index.js';
import type { LlmFinalResponse } from '../../cli-options.js';
import type { CostModel } from '../../cost-model.js';
import type { ModelSpec } from '../../model-spec.js';
import { ModelStats } from '../../model-statistics.js';
import { RuntimeError } from '../../runtime-error.js';
import type { ContinuousBatchingEngine } from '../../engine/continuous-batching-engine.js';
import type { InferCall, ServedModel, ValidatedRequest, VllmEngineLoad } from '../../served-model.js';
import { GenerationRunner } from './generation-runner.js';
import { parametersAsJson, parseSamplingParameters, type SamplingParameters } from './sampling-parameters.js';
import type { FinishReason } from './tiny-llm-generator.js';
import { countTokens } from './tiny-llm-tokenizer.js';

/** Prompt plus generated tokens may not exceed this (vLLM's max_model_len), unless a profile says otherwise. */
export const MAX_MODEL_LEN = 4096;

export interface TinyLlmModelOptions {
  /** Served name: `tiny-llm`, or `llama3` under an LLM profile. */
  name?: string;
  instances: number;
  maxSequences: number;
  finalResponse: LlmFinalResponse;
  cost: CostModel;
  /** An LLM profile's continuous-batching engines (one per instance); unset = per-sequence slots. */
  engines?: readonly ContinuousBatchingEngine[] | undefined;
  /** vLLM's --max-model-len; default MAX_MODEL_LEN (a profile sets its own). */
  maxModelLen?: number;
}

interface LlmRequest {
  prompt: string;
  promptTokens: number;
  stream: boolean;
  prependInput: boolean;
  sampling: SamplingParameters;
  returnFinishReason: boolean;
  returnNumInputTokens: boolean;
  returnNumOutputTokens: boolean;
}

function backendError(message: string): RuntimeError {
  return new RuntimeError(status.INTERNAL, `Error generating stream: ${message}`, 'backend', 'BACKEND');
}

function text(tensor: RawTensor | undefined): string | undefined {
  if (tensor === undefined) return undefined;
  const first = splitBytesElements(tensor.name, tensor.raw)[0];
  return first === undefined ? undefined : first.toString('utf8');
}

function flag(tensor: RawTensor | undefined): boolean | undefined {
  return tensor === undefined || tensor.raw.length === 0 ? undefined : tensor.raw[0] !== 0;
}

/** The vLLM backend's reading of the inputs (src/utils/request.py), errors included. */
function readRequest(request: ValidatedRequest, maxModelLen: number): LlmRequest {
  const inputs = request.inputs;
  const prompt = text(inputs.get('text_input')) ?? '';
  const stream = flag(inputs.get('stream')) ?? false;
  const exclude = flag(inputs.get('exclude_input_in_output'));
  const prependInput = exclude !== undefined ? !exclude : !stream;
  if (prependInput && stream) throw backendError('When streaming, `exclude_input_in_output` = False is not allowed.');
  const paramsJson = text(inputs.get('sampling_parameters')) ?? parametersAsJson(request.parameters);
  let sampling: SamplingParameters;
  try {
    sampling = parseSamplingParameters(paramsJson);
  } catch (err) {
    throw backendError((err as Error).message);
  }
  const promptTokens = countTokens(prompt);
  if (promptTokens === 0) throw backendError('The decoder prompt cannot be empty');
  if (promptTokens >= maxModelLen) {
    throw backendError(`The decoder prompt (length ${promptTokens}) is longer than the maximum model length of ${maxModelLen}.`);
  }
  return {
    prompt,
    promptTokens,
    stream,
    prependInput,
    sampling,
    returnFinishReason: flag(inputs.get('return_finish_reason')) ?? false,
    returnNumInputTokens: flag(inputs.get('return_num_input_tokens')) ?? false,
    returnNumOutputTokens: flag(inputs.get('return_num_output_tokens')) ?? false,
  };
}

const bytesTensor = (name: string, value: string): RawTensor => ({
  name, datatype: 'BYTES', shape: [1], raw: joinBytesElements([Buffer.from(value, 'utf8')]),
});

const uint32Tensor = (name: string, value: number): RawTensor => ({
  name, datatype: 'UINT32', shape: [1], raw: jsonToRaw(name, 'UINT32', [1], [value]),
});

export class TinyLlmModel implements ServedModel {
  readonly spec: ModelSpec;
  readonly stats: ModelStats;
  readonly #runner: GenerationRunner;
  readonly #finalResponse: LlmFinalResponse;
  readonly #maxModelLen: number;

  constructor(options: TinyLlmModelOptions) {
    const name = options.name ?? 'tiny-llm';
    this.stats = new ModelStats(name);
    this.#finalResponse = options.finalResponse;
    this.#maxModelLen = options.maxModelLen ?? MAX_MODEL_LEN;
    this.spec = {
      name,
      backend: 'vllm',
      maxBatchSize: 0,
      inputs: [
        { name: 'text_input', datatype: 'BYTES', dims: [1] },
        { name: 'stream', datatype: 'BOOL', dims: [1], optional: true },
        { name: 'sampling_parameters', datatype: 'BYTES', dims: [1], optional: true },
        { name: 'exclude_input_in_output', datatype: 'BOOL', dims: [1], optional: true },
        { name: 'return_finish_reason', datatype: 'BOOL', dims: [1], optional: true },
        { name: 'return_num_input_tokens', datatype: 'BOOL', dims: [1], optional: true },
        { name: 'return_num_output_tokens', datatype: 'BOOL', dims: [1], optional: true },
      ],
      outputs: [
        { name: 'text_output', datatype: 'BYTES', dims: [-1] },
        { name: 'finish_reason', datatype: 'BYTES', dims: [-1] },
        { name: 'num_input_tokens', datatype: 'UINT32', dims: [1] },
        { name: 'num_output_tokens', datatype: 'UINT32', dims: [-1] },
      ],
      decoupled: true,
      dynamicBatching: false,
      instanceCount: options.instances,
      instanceKind: 'KIND_MODEL',
      parameters: { max_num_seqs: String(options.maxSequences), max_model_len: String(this.#maxModelLen) },
    };
    this.#runner = new GenerationRunner({
      modelName: this.spec.name, stats: this.stats, instances: options.instances, maxSequences: options.maxSequences, cost: options.cost, engines: options.engines,
    });
  }

  vllmLoad(): VllmEngineLoad[] {
    return this.#runner.load();
  }

  async execute(call: InferCall): Promise<void> {
    const llm = readRequest(call.request, this.#maxModelLen);
    await this.#runner.run(call, {
      prompt: llm.prompt,
      promptTokens: llm.promptTokens,
      stream: llm.stream,
      prependInput: llm.prependInput,
      generation: {
        maxTokens: Math.min(llm.sampling.maxTokens, this.#maxModelLen - llm.promptTokens),
        stop: llm.sampling.stop,
        seed: llm.sampling.seed,
        ignoreEos: llm.sampling.ignoreEos,
        includeStopStrInOutput: llm.sampling.includeStopStrInOutput,
        minTokens: llm.sampling.minTokens,
      },
      finalResponse: this.#finalResponse,
      outputs: (textOutput, finishReason, outputTokens) => this.#outputs(llm, textOutput, finishReason, outputTokens),
    });
  }

  /** The outputs the vLLM backend returns: text_output always, the rest when asked for. */
  #outputs(llm: LlmRequest, textOutput: string, finishReason: FinishReason | null, outputTokens: number): RawTensor[] {
    const outputs = [bytesTensor('text_output', textOutput)];
    // str(None) for a sequence that has not finished yet, exactly as the backend renders it.
    if (llm.returnFinishReason) outputs.push(bytesTensor('finish_reason', finishReason ?? 'None'));
    if (llm.returnNumInputTokens) outputs.push(uint32Tensor('num_input_tokens', llm.promptTokens));
    if (llm.returnNumOutputTokens) outputs.push(uint32Tensor('num_output_tokens', outputTokens));
    return outputs;
  }
}

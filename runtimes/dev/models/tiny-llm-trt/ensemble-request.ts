// tiny-llm-trt's reading of a request to TensorRT-LLM's `ensemble` model: every tensor has the
// leading batch dim (a scalar arrives as [1,1]), stop/bad words are plain strings, sampling values
// are range-checked as TensorRT-LLM's SamplingConfig does and otherwise unused. Errors are
// RuntimeErrors of the backend phase (the request passed Triton's own validation): INTERNAL for
// what TensorRT-LLM itself rejects, INVALID_ARGUMENT for what only the dev runtime cannot do.
import { status } from '@grpc/grpc-js';
import { rawToJson, splitBytesElements, type RawTensor } from '../../../../router/adapters/kserve-tensor/index.js';
import { RuntimeError } from '../../runtime-error.js';
import type { ValidatedRequest } from '../../served-model.js';
import { countTokens } from '../tiny-llm/tiny-llm-tokenizer.js';

/** Prompt plus generated tokens may not exceed this (the engine's max_seq_len; tiny-llm's max_model_len). */
export const MAX_SEQ_LEN = 4096;

export interface EnsembleRequest {
  prompt: string;
  promptTokens: number;
  /** The `max_tokens` input, clamped so prompt + output fit in MAX_SEQ_LEN (TensorRT-LLM warns and clamps too). */
  maxTokens: number;
  stream: boolean;
  excludeInput: boolean;
  stopWords: string[];
  /** Accepted, not applied: the generator cannot ban words (see README). */
  badWords: string[];
  seed: number | undefined;
  minTokens: number;
  returnNumInputTokens: boolean;
  returnNumOutputTokens: boolean;
}

/** What TensorRT-LLM itself would reject; its errors reach the client as INTERNAL. */
function engineError(message: string): RuntimeError {
  return new RuntimeError(status.INTERNAL, message, 'backend', 'BACKEND');
}

/** What real TensorRT-LLM accepts but this simulator cannot do. */
function unsupported(message: string): RuntimeError {
  return new RuntimeError(status.INVALID_ARGUMENT, message, 'backend', 'BACKEND');
}

/** TLLM_CHECK's rendering of a failed check (without the source location it appends). */
const assertionFailed = (expression: string): RuntimeError => engineError(`[TensorRT-LLM][ERROR] Assertion failed: ${expression}`);

function strings(tensor: RawTensor | undefined): string[] {
  return tensor === undefined ? [] : splitBytesElements(tensor.name, tensor.raw).map((b) => b.toString('utf8'));
}

/** The single element of a [1,1] tensor as a number (bool as 0/1, UINT64 beyond 2^53 folded to 32 bits). */
function scalar(tensor: RawTensor | undefined): number | undefined {
  if (tensor === undefined) return undefined;
  const value = rawToJson(tensor.name, tensor.datatype, tensor.shape, tensor.raw)[0];
  if (typeof value === 'bigint') return Number(value % 4294967296n);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return typeof value === 'number' ? value : undefined;
}

function flag(tensor: RawTensor | undefined): boolean {
  return scalar(tensor) === 1;
}

/** TensorRT-LLM's SamplingConfig checks on the values a client may send; the values are not used. */
function checkSampling(inputs: Map<string, RawTensor>): void {
  const topK = scalar(inputs.get('top_k'));
  if (topK !== undefined && !(topK >= 0)) throw assertionFailed('topK.value() >= 0');
  // [0, 1]: the tensorrt_llm model reads top_p 0 as "not set" rather than failing SamplingConfig's > 0.
  const topP = scalar(inputs.get('top_p'));
  if (topP !== undefined && !(topP >= 0)) throw assertionFailed('topP.value() >= 0.f');
  if (topP !== undefined && !(topP <= 1)) throw assertionFailed('topP.value() <= 1.f');
  const temperature = scalar(inputs.get('temperature'));
  if (temperature !== undefined && !(temperature >= 0)) throw assertionFailed('temperature.value() >= 0.f');
  const minTokens = scalar(inputs.get('min_tokens'));
  if (minTokens !== undefined && !(minTokens >= 0)) throw assertionFailed('minTokens.value() >= 0');
  const repetitionPenalty = scalar(inputs.get('repetition_penalty'));
  if (repetitionPenalty !== undefined && !(repetitionPenalty > 0)) throw assertionFailed('repetitionpenalty.value() > 0.f');
  const beamWidth = scalar(inputs.get('beam_width'));
  if (beamWidth !== undefined && !(beamWidth > 0)) throw assertionFailed('beamWidth > 0 && beamWidth <= kMaxBeamWidth');
  if (beamWidth !== undefined && beamWidth > 1) {
    throw unsupported(`beam_width ${beamWidth} is not supported by the dev runtime: tiny-llm-trt generates one sequence per request (beam_width 1)`);
  }
}

export function readEnsembleRequest(modelName: string, request: ValidatedRequest): EnsembleRequest {
  const inputs = request.inputs;
  if (request.batchSize !== 1) {
    throw unsupported(
      `${modelName} generates one sequence per request; got a batch of ${request.batchSize} prompts ` +
      '(real TensorRT-LLM accepts batches up to max_batch_size; send each prompt as its own request to the dev runtime)',
    );
  }
  if (flag(inputs.get('return_log_probs'))) throw unsupported('return_log_probs is not supported by the dev runtime');
  checkSampling(inputs);

  const prompt = strings(inputs.get('text_input'))[0] ?? '';
  const promptTokens = countTokens(prompt);
  // The tensorrt_llm model's message when preprocessing produced no token ids.
  if (promptTokens === 0) throw engineError('Invalid format for input_ids');
  if (promptTokens >= MAX_SEQ_LEN) {
    throw engineError(`Prompt length (${promptTokens}) exceeds maximum input length (${MAX_SEQ_LEN - 1}).`);
  }
  const maxTokens = scalar(inputs.get('max_tokens')) ?? 0;
  if (maxTokens < 1) throw engineError(`max_tokens must be at least 1, got ${maxTokens}`);
  const seed = scalar(inputs.get('seed'));
  return {
    prompt,
    promptTokens,
    maxTokens: Math.min(maxTokens, MAX_SEQ_LEN - promptTokens),
    stream: flag(inputs.get('stream')),
    excludeInput: flag(inputs.get('exclude_input_in_output')),
    stopWords: strings(inputs.get('stop_words')),
    badWords: strings(inputs.get('bad_words')),
    seed,
    minTokens: scalar(inputs.get('min_tokens')) ?? 0,
    returnNumInputTokens: flag(inputs.get('return_num_input_tokens')),
    returnNumOutputTokens: flag(inputs.get('return_num_output_tokens')),
  };
}

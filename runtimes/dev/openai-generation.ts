// One OpenAI-port generation, run through the InferenceEngine as the vLLM backend's tensors, the
// way Triton's own OpenAI frontend drives a vLLM-backend model: text_input, stream,
// exclude_input_in_output=true, sampling_parameters JSON and the return_* flags for the finish
// reason and token counts. So fault decisions (crash-after counts these requests too), hangs,
// scheduling, the cost model, the generated text and the statistics are the gRPC path's own code,
// and one prompt gives one text on both APIs.
import { jsonToRaw, joinBytesElements, rawToJson, splitBytesElements } from '../../router/adapters/kserve-tensor/index.js';
import type { ModelInferRequest__Output } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse } from '../../router/generated/inference/ModelInferResponse.js';
import type { InferenceEngine } from './inference-engine.js';
import type { FinishReason } from './models/tiny-llm/tiny-llm-generator.js';
import { OpenAiError } from './openai-errors.js';

export interface GenerationCall {
  /** Request id, echoed in the engine's responses and logs. */
  id: string;
  model: string;
  prompt: string;
  /** Streamed: one delta per generated token as it is produced; else one final text. */
  stream: boolean;
  samplingJson: string;
}

export interface GenerationOutcome {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

function input(name: string, datatype: 'BYTES' | 'BOOL'): ModelInferRequest__Output['inputs'][number] {
  return { name, datatype, shape: ['1'], parameters: {}, contents: null };
}

/** The tensors the vLLM backend reads (its src/utils/request.py contract). */
function inferRequest(call: GenerationCall): ModelInferRequest__Output {
  const tensors: [string, 'BYTES' | 'BOOL', Buffer][] = [
    ['text_input', 'BYTES', joinBytesElements([Buffer.from(call.prompt, 'utf8')])],
    ['stream', 'BOOL', jsonToRaw('stream', 'BOOL', [1], [call.stream])],
    ['exclude_input_in_output', 'BOOL', jsonToRaw('exclude_input_in_output', 'BOOL', [1], [true])],
    ['sampling_parameters', 'BYTES', joinBytesElements([Buffer.from(call.samplingJson, 'utf8')])],
    ['return_finish_reason', 'BOOL', jsonToRaw('return_finish_reason', 'BOOL', [1], [true])],
    ['return_num_input_tokens', 'BOOL', jsonToRaw('return_num_input_tokens', 'BOOL', [1], [true])],
    ['return_num_output_tokens', 'BOOL', jsonToRaw('return_num_output_tokens', 'BOOL', [1], [true])],
  ];
  return {
    model_name: call.model,
    model_version: '',
    id: call.id,
    parameters: {},
    inputs: tensors.map(([name, datatype]) => input(name, datatype)),
    outputs: [],
    raw_input_contents: tensors.map(([, , raw]) => raw),
  };
}

function rawOutput(response: ModelInferResponse, name: string): Buffer | undefined {
  const at = (response.outputs ?? []).findIndex((o) => o.name === name);
  const raw = at === -1 ? undefined : response.raw_output_contents?.[at];
  if (raw === undefined) return undefined;
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array);
}

function textOutput(response: ModelInferResponse, name: string): string | undefined {
  const raw = rawOutput(response, name);
  return raw === undefined ? undefined : splitBytesElements(name, raw)[0]?.toString('utf8');
}

function countOutput(response: ModelInferResponse, name: string): number | undefined {
  const raw = rawOutput(response, name);
  return raw === undefined ? undefined : (rawToJson(name, 'UINT32', [1], raw)[0] as number);
}

/**
 * Resolves with the whole text once the model is done; `onDelta` sees each streamed delta as it is
 * produced (empty ones included: a token whose text is held back), `last` on the one that finished
 * the sequence. Rejects with what the engine threw (a RuntimeError; cancellation once `signal`
 * aborts).
 */
export async function runGeneration(
  engine: InferenceEngine,
  call: GenerationCall,
  signal: AbortSignal,
  onDelta: (delta: string, last: boolean) => void = () => {},
): Promise<GenerationOutcome> {
  let text = '';
  let finishReason: FinishReason | undefined;
  let promptTokens = 0;
  let completionTokens = 0;
  await engine.infer('ModelStreamInfer', inferRequest(call), signal, {
    send(response) {
      const delta = textOutput(response, 'text_output') ?? '';
      const reason = textOutput(response, 'finish_reason');
      text += delta;
      // The backend renders an unfinished sequence's reason as str(None).
      const last = reason === 'stop' || reason === 'length';
      if (last) finishReason = reason;
      promptTokens = countOutput(response, 'num_input_tokens') ?? promptTokens;
      completionTokens += countOutput(response, 'num_output_tokens') ?? 0;
      if (call.stream) onDelta(delta, last);
    },
  });
  if (finishReason === undefined) throw new OpenAiError(500, 'the model finished without a finish reason');
  return { text, finishReason, promptTokens, completionTokens };
}

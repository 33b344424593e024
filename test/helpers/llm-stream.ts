// The dev runtime's LLMs over gRPC ModelStreamInfer, as the integration tests drive them: tiny-llm's
// vLLM-backend request, one stream of requests collected to its end, a stream cancelled
// mid-generation, and reading a response's outputs and final flag. One copy, so the tiny-llm,
// tiny-llm-trt and OpenAI-port tests compare the same reading of the wire.
import * as grpc from '@grpc/grpc-js';
import { jsonToRaw, joinBytesElements, rawToJson, splitBytesElements } from '../../router/adapters/kserve-tensor/index.js';
import type { Datatype } from '../../router/core/datatype.js';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import type { InferParameter } from '../../router/generated/inference/InferParameter.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../../router/generated/inference/ModelInferResponse.js';
import type { ModelStreamInferResponse__Output } from '../../router/generated/inference/ModelStreamInferResponse.js';

export interface LlmOptions {
  stream?: boolean;
  exclude?: boolean;
  /** The sampling_parameters input: an object (sent as JSON) or the raw string. */
  sampling?: Record<string, unknown> | string;
  /** return_finish_reason, return_num_input_tokens, return_num_output_tokens (default true). */
  returns?: boolean;
  parameters?: Record<string, InferParameter>;
}

/** A `tiny-llm` request in the vLLM backend's tensor contract ([1] tensors, raw contents). */
export function llmRequest(id: string, prompt: string, o: LlmOptions = {}): ModelInferRequest {
  const inputs: NonNullable<ModelInferRequest['inputs']> = [];
  const raw: Buffer[] = [];
  const bytes = (name: string, value: string) => {
    inputs.push({ name, datatype: 'BYTES', shape: [1] });
    raw.push(joinBytesElements([Buffer.from(value, 'utf8')]));
  };
  const bool = (name: string, value: boolean) => {
    inputs.push({ name, datatype: 'BOOL', shape: [1] });
    raw.push(jsonToRaw(name, 'BOOL', [1], [value]));
  };
  bytes('text_input', prompt);
  if (o.stream !== undefined) bool('stream', o.stream);
  if (o.exclude !== undefined) bool('exclude_input_in_output', o.exclude);
  if (o.sampling !== undefined) bytes('sampling_parameters', typeof o.sampling === 'string' ? o.sampling : JSON.stringify(o.sampling));
  if (o.returns !== false) {
    for (const name of ['return_finish_reason', 'return_num_input_tokens', 'return_num_output_tokens']) bool(name, true);
  }
  return { model_name: 'tiny-llm', id, inputs, raw_input_contents: raw, parameters: o.parameters ?? {} };
}

/** The first element of output `name`: a BYTES element as UTF-8, a number as its datatype reads. */
export function output(resp: ModelInferResponse__Output | null | undefined, name: string): string | number | undefined {
  if (resp === null || resp === undefined) return undefined;
  const at = resp.outputs.findIndex((o) => o.name === name);
  if (at === -1) return undefined;
  const meta = resp.outputs[at]!;
  const raw = resp.raw_output_contents[at] as Buffer;
  if (meta.datatype === 'BYTES') return splitBytesElements(name, raw)[0]?.toString('utf8');
  return rawToJson(name, meta.datatype as Datatype, meta.shape.map(Number), raw)[0] as number;
}

export const isFinal = (m: ModelStreamInferResponse__Output): boolean => m.infer_response?.parameters['triton_final_response']?.bool_param === true;

/** The text_output deltas of a stream joined (a message without one adds nothing). */
export const concat = (messages: ModelStreamInferResponse__Output[]): string => messages.map((m) => output(m.infer_response, 'text_output') ?? '').join('');

export interface StreamResult {
  messages: ModelStreamInferResponse__Output[];
  error?: grpc.ServiceError;
}

/** Sends requests on one stream, half-closes, and collects every message until the stream ends. */
export function runStream(client: GRPCInferenceServiceClient, requests: ModelInferRequest[], metadata = new grpc.Metadata()): Promise<StreamResult> {
  return new Promise((resolve) => {
    const messages: ModelStreamInferResponse__Output[] = [];
    const stream = client.ModelStreamInfer(metadata, { deadline: Date.now() + 15_000 });
    stream.on('data', (m: ModelStreamInferResponse__Output) => messages.push(m));
    stream.on('error', (error: grpc.ServiceError) => resolve({ messages, error }));
    stream.on('end', () => resolve({ messages }));
    for (const r of requests) stream.write(r);
    stream.end();
  });
}

/** Sends one request on a stream (no half-close) and cancels the stream once `responses` messages arrived. */
export function cancelAfter(client: GRPCInferenceServiceClient, request: ModelInferRequest, responses: number): Promise<void> {
  const stream = client.ModelStreamInfer();
  let received = 0;
  stream.on('error', () => {});
  return new Promise<void>((resolve) => {
    stream.on('data', () => {
      received++;
      if (received === responses) {
        stream.cancel();
        resolve();
      }
    });
    stream.write(request);
  });
}

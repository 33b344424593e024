// Test helper (not a test file): Triton LLM requests and responses passed through the real ModelStreamInfer codec,
// so tests see exactly the message shapes a gRPC stream gives (shapes as strings, defaults filled, raw contents only).
import { inferenceProto } from '../../../../router/core/grpc-definitions.js';
import type { Datatype } from '../../../../router/core/datatype.js';
import type { JsonElement } from '../../../../router/adapters/kserve-tensor/index.js';
import { jsonToRaw, rawToJson } from '../../../../router/adapters/kserve-tensor/index.js';
import type { ModelInferRequest, ModelInferRequest__Output } from '../../../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../../../../router/generated/inference/ModelInferResponse.js';

const streamInfer = inferenceProto().inference.GRPCInferenceService.service.ModelStreamInfer;

export interface OutputSpec {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: unknown;
}

/** One streamed response as Triton sends it: outputs in raw_output_contents, triton_final_response on every response. */
export function tritonResponse(outputs: readonly OutputSpec[], final: boolean, id = 'req-1'): ModelInferResponse__Output {
  const wire = streamInfer.responseSerialize({
    error_message: '',
    infer_response: {
      model_name: 'llm',
      model_version: '1',
      id,
      parameters: { triton_final_response: { bool_param: final } },
      outputs: outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape: [...shape] })),
      raw_output_contents: outputs.map(({ name, datatype, shape, data }) => jsonToRaw(name, datatype, shape, data)),
    },
  });
  const decoded = streamInfer.responseDeserialize(wire).infer_response;
  if (decoded === null || decoded === undefined) throw new Error('no infer_response after the round trip');
  return decoded;
}

/** The flags-only final a model may end with when the request sets triton_enable_empty_final_response. */
export function emptyFinal(id = 'req-1'): ModelInferResponse__Output {
  return tritonResponse([], true, id);
}

/** A built request through the wire, as Triton would receive it. */
export function onTheWire(request: ModelInferRequest): ModelInferRequest__Output {
  return streamInfer.requestDeserialize(streamInfer.requestSerialize(request));
}

export interface DecodedInput {
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly values: JsonElement[];
}

/** Every input by name, decoded with the tensor codec from raw_input_contents (which must hold all of them). */
export function decodeInputs(request: ModelInferRequest__Output): Map<string, DecodedInput> {
  if (request.raw_input_contents.length !== request.inputs.length) throw new Error('raw_input_contents must hold every input');
  const byName = new Map<string, DecodedInput>();
  request.inputs.forEach((input, i) => {
    if (input.contents !== null) throw new Error(`input ${input.name} uses typed contents`);
    const shape = input.shape.map(Number);
    const values = rawToJson(input.name, input.datatype as Datatype, shape, request.raw_input_contents[i] as Buffer);
    byName.set(input.name, { datatype: input.datatype, shape, values });
  });
  return byName;
}

// Builds a ModelInferResponse the way Triton does: outputs described in `outputs`, data only in
// raw_output_contents (same order), just the requested outputs, id echoed, version "1".
import type { ModelInferResponse } from '../../router/generated/inference/ModelInferResponse.js';
import type { RawTensor } from '../../router/adapters/kserve-tensor/index.js';
import { MODEL_VERSION } from './model-spec.js';
import type { ValidatedRequest } from './served-model.js';

export function inferResponse(modelName: string, request: ValidatedRequest, outputs: readonly RawTensor[]): ModelInferResponse {
  const wanted = request.requestedOutputs;
  const chosen = wanted.length === 0 ? outputs : outputs.filter((o) => wanted.includes(o.name));
  return {
    model_name: modelName,
    model_version: MODEL_VERSION,
    id: request.id,
    parameters: {},
    outputs: chosen.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape.map(String), parameters: {} })),
    raw_output_contents: chosen.map((o) => o.raw),
  };
}

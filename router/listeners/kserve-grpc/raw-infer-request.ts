// A client's ModelInferRequest validated like the REST listener's (datatypes, shapes, data against
// shapes, limits.maxTensorElements, no shared memory) and put in the router's one internal form:
// every input's data in raw_input_contents, never typed `contents`, so the batcher and backends see
// raw bytes only. Mixing raw and typed contents in one request is rejected, as Triton does.
import { elementCount, inputsFromRequest, parseShape } from '../../adapters/kserve-tensor/index.js';
import { SwitchyardError } from '../../core/errors.js';
import type { ModelInferRequest } from '../../generated/inference/ModelInferRequest.js';
import type { ModelInferRequest__Output } from '../../generated/inference/ModelInferRequest.js';

export interface GrpcInferLimits {
  readonly maxTensorElements: number;
}

const SHARED_MEMORY_PARAMETERS = ['shared_memory_region', 'shared_memory_offset', 'shared_memory_byte_size'];

export function rawInferRequest(req: ModelInferRequest__Output, limits: GrpcInferLimits): ModelInferRequest & { model_name: string } {
  // Counted before any typed contents are converted, so an oversize request costs no copy.
  let totalElements = 0;
  for (const input of req.inputs) {
    totalElements += elementCount(parseShape(input.name, input.shape));
    if (totalElements > limits.maxTensorElements) {
      throw new SwitchyardError('SWY_ERR_INPUT_TENSOR_TOO_LARGE', `input '${input.name}': the request's tensors exceed the limit of ${limits.maxTensorElements} elements (limits.maxTensorElements)`);
    }
  }
  for (const output of req.outputs) {
    if (SHARED_MEMORY_PARAMETERS.some((key) => Object.hasOwn(output.parameters, key))) {
      throw new SwitchyardError('SWY_ERR_INPUT_UNSUPPORTED', `output '${output.name}': shared-memory tensors are not supported through the router`);
    }
  }
  // Validates every input and converts typed contents; raw inputs stay views into the message.
  const tensors = inputsFromRequest(req);
  return {
    model_name: req.model_name,
    model_version: req.model_version,
    id: req.id,
    parameters: req.parameters,
    inputs: req.inputs.map((input, i) => ({
      name: input.name,
      datatype: tensors[i]?.datatype ?? input.datatype,
      shape: input.shape,
      parameters: input.parameters,
    })),
    outputs: req.outputs,
    raw_input_contents: tensors.map((t) => t.raw),
  };
}

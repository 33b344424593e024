// A decoded ModelInferRequest's inputs as RawTensors, each from raw_input_contents or typed contents, all validated.
import { SwitchyardError } from '../../core/errors.js';
import type { ModelInferRequest__Output } from '../../generated/inference/ModelInferRequest.js';
import { contentsToRawFor } from './contents-to-raw.js';
import { elementCount } from './element-count.js';
import { parseDatatypeFor } from './parse-datatype.js';
import { parseShapeFor } from './parse-shape.js';
import type { RawTensor } from './raw-tensor.js';
import { tensorFault } from './tensor-fault.js';
import { validateRawFor } from './validate-raw.js';

/** Input parameters that point at a shared-memory region instead of carrying data. */
const SHARED_MEMORY_PARAMETERS = ['shared_memory_region', 'shared_memory_offset', 'shared_memory_byte_size'] as const;

// Raw buffers are views into the received message (no copy); they stay valid as long as the caller holds them.
export function inputsFromRequest(req: ModelInferRequest__Output): RawTensor[] {
  const inputs = req.inputs;
  const rawContents = req.raw_input_contents;
  const useRaw = rawContents.length > 0;
  if (useRaw && rawContents.length !== inputs.length) {
    throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD',
      `raw_input_contents has ${rawContents.length} entries but the request has ${inputs.length} inputs; it needs one per input, in order`,
      { param: 'raw_input_contents' });
  }
  const tensors = new Array<RawTensor>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as (typeof inputs)[number];
    const name = input.name;
    // Shared memory first: such an input legitimately has neither raw nor contents, and Switchyard cannot reach it.
    const parameters = input.parameters ?? {};
    const shm = SHARED_MEMORY_PARAMETERS.find((key) => Object.hasOwn(parameters, key));
    if (shm !== undefined) {
      throw tensorFault('input', name, 'unsupported', `shared-memory inputs (parameter ${shm}) are not supported; send the data in the request`);
    }
    const datatype = parseDatatypeFor('input', name, input.datatype);
    const shape = parseShapeFor('input', name, input.shape);
    let raw: Buffer;
    if (useRaw) {
      if (input.contents !== null && input.contents !== undefined) {
        // Triton rejects this too; accepting it would leave two sources of truth for one tensor.
        throw tensorFault('input', name, 'field', 'raw_input_contents must be used for all inputs or none, but this input also sets contents');
      }
      raw = rawContents[i] as Buffer;
      validateRawFor('input', name, datatype, shape, raw);
    } else if (input.contents !== null && input.contents !== undefined) {
      raw = contentsToRawFor('input', name, datatype, shape, input.contents);
    } else if (elementCount(shape) === 0) {
      raw = Buffer.alloc(0);
    } else {
      throw tensorFault('input', name, 'field', 'has no data: set contents, or raw_input_contents for every input');
    }
    tensors[i] = { name, datatype, shape, raw };
  }
  return tensors;
}

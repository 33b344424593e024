// A decoded ModelInferResponse's outputs as RawTensors; any inconsistency is the upstream's fault, not the client's.
import { SwitchyardError } from '../../core/errors.js';
import type { InferTensorContents__Output } from '../../generated/inference/InferTensorContents.js';
import type { ModelInferResponse__Output } from '../../generated/inference/ModelInferResponse.js';
import { CONTENTS_FIELDS } from './contents-field.js';
import { contentsToRawFor } from './contents-to-raw.js';
import { elementCount } from './element-count.js';
import { parseDatatypeFor } from './parse-datatype.js';
import { parseShapeFor } from './parse-shape.js';
import type { RawTensor } from './raw-tensor.js';
import { tensorFault } from './tensor-fault.js';
import { validateRawFor } from './validate-raw.js';

/** Triton answers in raw_output_contents (one per output, same order); other V2 servers may use typed contents. */
export function outputsFromResponse(resp: ModelInferResponse__Output): RawTensor[] {
  const outputs = resp.outputs;
  const rawContents = resp.raw_output_contents;
  const useRaw = rawContents.length > 0;
  if (useRaw && rawContents.length !== outputs.length) {
    throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE',
      `upstream response has ${rawContents.length} raw_output_contents for ${outputs.length} outputs; it needs one per output`);
  }
  const tensors = new Array<RawTensor>(outputs.length);
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i] as (typeof outputs)[number];
    const name = output.name;
    const datatype = parseDatatypeFor('output', name, output.datatype);
    const shape = parseShapeFor('output', name, output.shape);
    let raw: Buffer;
    if (useRaw) {
      if (hasElements(output.contents)) {
        throw tensorFault('output', name, 'field', 'sets both contents and raw_output_contents');
      }
      raw = rawContents[i] as Buffer;
      validateRawFor('output', name, datatype, shape, raw);
    } else if (output.contents !== null && output.contents !== undefined) {
      raw = contentsToRawFor('output', name, datatype, shape, output.contents);
    } else if (elementCount(shape) === 0) {
      raw = Buffer.alloc(0);
    } else {
      throw tensorFault('output', name, 'field', 'has no data in contents or raw_output_contents');
    }
    tensors[i] = { name, datatype, shape, raw };
  }
  return tensors;
}

// Some encoders emit an empty contents message next to raw data; only real elements make it ambiguous.
function hasElements(contents: InferTensorContents__Output | null | undefined): boolean {
  if (contents === null || contents === undefined) return false;
  return CONTENTS_FIELDS.some((field) => (contents[field]?.length ?? 0) > 0);
}

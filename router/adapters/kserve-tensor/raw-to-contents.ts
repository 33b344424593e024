// Raw little-endian bytes -> typed InferTensorContents, with 64-bit integers as decimal strings as proto-loader expects.
import type { Datatype } from '../../core/datatype.js';
import type { InferTensorContents } from '../../generated/inference/InferTensorContents.js';
import { elementCount } from './element-count.js';
import { readBools, readByteViews, readInt64Strings, readNumbers } from './read-elements.js';
import { tensorFault, type TensorSide } from './tensor-fault.js';
import { validateRawFor } from './validate-raw.js';

export function rawToContents(tensorName: string, datatype: Datatype, shape: readonly number[], raw: Buffer): InferTensorContents {
  return rawToContentsFor('input', tensorName, datatype, shape, raw);
}

/** Only the datatype's own field is set; BYTES elements are views into raw, so raw must outlive the message. */
export function rawToContentsFor(
  side: TensorSide, tensorName: string, datatype: Datatype, shape: readonly number[], raw: Buffer,
): InferTensorContents {
  if (datatype === 'FP16' || datatype === 'BF16') {
    throw tensorFault(side, tensorName, 'datatype', `${datatype} must be sent as raw contents (InferTensorContents has no ${datatype} field)`);
  }
  validateRawFor(side, tensorName, datatype, shape, raw);
  const count = elementCount(shape);
  switch (datatype) {
    case 'BOOL': return { bool_contents: readBools(raw, count) };
    case 'INT8': case 'INT16': case 'INT32': return { int_contents: readNumbers(datatype, raw, count) };
    case 'UINT8': case 'UINT16': case 'UINT32': return { uint_contents: readNumbers(datatype, raw, count) };
    case 'INT64': return { int64_contents: readInt64Strings(raw, count, true) };
    case 'UINT64': return { uint64_contents: readInt64Strings(raw, count, false) };
    case 'FP32': return { fp32_contents: readNumbers(datatype, raw, count) };
    case 'FP64': return { fp64_contents: readNumbers(datatype, raw, count) };
    case 'BYTES': return { bytes_contents: readByteViews(raw, count) };
  }
}

// Typed InferTensorContents -> raw little-endian bytes, checking the field matches the datatype and the count the shape.
import { elementBytes, type Datatype } from '../../core/datatype.js';
import type { InferTensorContents__Output } from '../../generated/inference/InferTensorContents.js';
import { joinBytesElements } from './bytes-elements.js';
import { CONTENTS_FIELDS, contentsField } from './contents-field.js';
import { elementCount } from './element-count.js';
import { formatShape, tensorFault, type TensorSide } from './tensor-fault.js';
import { elementFault, writeFixedElements } from './write-elements.js';

export function contentsToRaw(
  tensorName: string, datatype: Datatype, shape: readonly number[], contents: InferTensorContents__Output,
): Buffer {
  return contentsToRawFor('input', tensorName, datatype, shape, contents);
}

export function contentsToRawFor(
  side: TensorSide, tensorName: string, datatype: Datatype, shape: readonly number[],
  contents: InferTensorContents__Output,
): Buffer {
  const field = contentsField(datatype);
  if (field === undefined) {
    throw tensorFault(side, tensorName, 'datatype', `${datatype} must be sent as raw contents (InferTensorContents has no ${datatype} field)`);
  }
  // Fields may be missing when the object was built by hand rather than decoded with defaults: true.
  for (const other of CONTENTS_FIELDS) {
    if (other !== field && (contents[other]?.length ?? 0) > 0) {
      throw tensorFault(side, tensorName, 'datatype', `${datatype} data belongs in ${field}, but ${other} is set`);
    }
  }
  const values: readonly unknown[] = contents[field] ?? [];
  const count = elementCount(shape);
  if (values.length !== count) {
    throw tensorFault(side, tensorName, 'shape', `shape ${formatShape(shape)} needs ${count} elements, ${field} has ${values.length}`);
  }
  if (datatype === 'BYTES') {
    for (let i = 0; i < values.length; i++) {
      if (!(values[i] instanceof Uint8Array)) throw elementFault(side, tensorName, datatype, i, values[i], 'must be bytes');
    }
    return joinBytesElements(values as readonly Uint8Array[]);
  }
  const out = Buffer.allocUnsafe(count * (elementBytes(datatype) as number)); // defined for every type but BYTES
  writeFixedElements(side, tensorName, datatype, values, new DataView(out.buffer, out.byteOffset, out.length), 0);
  return out;
}

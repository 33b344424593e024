// Checks that raw tensor bytes agree with the datatype and shape before anything reads them.
import { elementBytes, type Datatype } from '../../core/datatype.js';
import { checkBytesFraming } from './bytes-elements.js';
import { elementCount } from './element-count.js';
import { formatShape, tensorFault, type TensorSide } from './tensor-fault.js';

export function validateRaw(tensorName: string, datatype: Datatype, shape: readonly number[], raw: Buffer): void {
  validateRawFor('input', tensorName, datatype, shape, raw);
}

export function validateRawFor(
  side: TensorSide, tensorName: string, datatype: Datatype, shape: readonly number[], raw: Buffer,
): void {
  const count = elementCount(shape);
  const size = elementBytes(datatype);
  if (size === undefined) {
    checkBytesFraming(side, tensorName, raw, count, formatShape(shape));
    return;
  }
  if (raw.length !== count * size) {
    throw tensorFault(side, tensorName, 'shape',
      `${datatype} shape ${formatShape(shape)} needs ${count * size} bytes (${count} x ${size}), got ${raw.length} bytes`);
  }
}

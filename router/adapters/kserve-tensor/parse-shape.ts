// Turns a wire shape (JSON numbers, or proto-loader's int64 decimal strings) into non-negative safe integers.
import { describeValue, tensorFault, type TensorSide } from './tensor-fault.js';

// Up to 16 digits keeps Number() exact enough for the isSafeInteger check to be the real bound.
const DIM_STRING = /^[0-9]{1,16}$/;

export function parseShape(tensorName: string, shape: unknown): number[] {
  return parseShapeFor('input', tensorName, shape);
}

export function parseShapeFor(side: TensorSide, tensorName: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw tensorFault(side, tensorName, 'shape', `shape must be an array of non-negative integers, got ${describeValue(shape)}`);
  }
  const dims = new Array<number>(shape.length);
  for (let i = 0; i < shape.length; i++) {
    const raw: unknown = shape[i];
    const dim = typeof raw === 'number' ? raw : typeof raw === 'string' && DIM_STRING.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw tensorFault(side, tensorName, 'shape', `shape[${i}] is ${describeValue(raw)}; dims must be non-negative integers`);
    }
    dims[i] = dim === 0 ? 0 : dim; // folds -0, which would print as 0 but compare oddly with Object.is
  }
  return dims;
}

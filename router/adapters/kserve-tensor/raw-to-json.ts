// Raw little-endian bytes -> a flat row-major JSON array (64-bit integers beyond 2^53 as bigint).
import type { Datatype } from '../../core/datatype.js';
import { elementCount } from './element-count.js';
import type { JsonElement } from './raw-tensor.js';
import { readBools, readInt64s, readNumbers, readStrings } from './read-elements.js';
import { validateRawFor } from './validate-raw.js';
import type { TensorSide } from './tensor-fault.js';

export function rawToJson(tensorName: string, datatype: Datatype, shape: readonly number[], raw: Buffer): JsonElement[] {
  return rawToJsonFor('input', tensorName, datatype, shape, raw);
}

export function rawToJsonFor(
  side: TensorSide, tensorName: string, datatype: Datatype, shape: readonly number[], raw: Buffer,
): JsonElement[] {
  validateRawFor(side, tensorName, datatype, shape, raw);
  const count = elementCount(shape);
  switch (datatype) {
    case 'BOOL': return readBools(raw, count);
    case 'INT64': return readInt64s(raw, count, true);
    case 'UINT64': return readInt64s(raw, count, false);
    case 'BYTES': return readStrings(raw, count);
    default: return readNumbers(datatype, raw, count);
  }
}

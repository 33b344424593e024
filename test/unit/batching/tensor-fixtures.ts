// Deterministic raw tensors of every V2 datatype for the batching tests: odd bit patterns (NaN
// payloads, FP16 subnormals, 64-bit extremes) and BYTES elements with embedded NULs and empty ones.
import { joinBytesElements } from '../../../router/adapters/kserve-tensor/index.js';
import { DATATYPES, elementBytes, type Datatype } from '../../../router/core/datatype.js';
import type { ModelInferRequest } from '../../../router/generated/inference/ModelInferRequest.js';
import { seededRandom } from '../../helpers/seeded-random.js';

export { DATATYPES };

/** Elements per row of the fixtures: a non-batch dim of 3. */
export const PER_ROW = 3;

/** `rows` rows of `datatype` (shape [rows, 3]); the same seed gives the same bytes. */
export function rawRows(datatype: Datatype, rows: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const count = rows * PER_ROW;
  if (datatype === 'BYTES') {
    const elements: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const kind = i % 4;
      if (kind === 0) elements.push(Buffer.alloc(0));
      else if (kind === 1) elements.push(Buffer.from([0, 0, Math.floor(random() * 256), 0]));
      else if (kind === 2) elements.push(Buffer.from(`é\u0000ñ-${seed}-${i}`, 'utf8'));
      else elements.push(Buffer.from(Array.from({ length: 1 + Math.floor(random() * 9) }, () => Math.floor(random() * 256))));
    }
    return joinBytesElements(elements);
  }
  const size = elementBytes(datatype) as number;
  const out = Buffer.alloc(count * size);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * 256);
  if (datatype === 'BOOL') for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) & 1;
  if (datatype === 'FP16' && out.length >= 4) {
    out.writeUInt16LE(0x0001, 0); // the smallest subnormal
    out.writeUInt16LE(0x7e01, 2); // a NaN with a payload
  }
  return out;
}

/** A request with one input `x` of `datatype`, `rows` rows, raw contents. */
export function rowsRequest(datatype: Datatype, rows: number, seed: number, extra: Partial<ModelInferRequest> = {}): ModelInferRequest {
  return {
    model_name: 'm',
    model_version: '',
    id: `req-${seed}`,
    inputs: [{ name: 'x', datatype, shape: [rows, PER_ROW], parameters: {} }],
    raw_input_contents: [rawRows(datatype, rows, seed)],
    ...extra,
  };
}

/** A request with three inputs of different datatypes (FP16, BYTES, INT64), each `rows` rows. */
export function mixedRequest(rows: number, seed: number, extra: Partial<ModelInferRequest> = {}): ModelInferRequest {
  const types: Datatype[] = ['FP16', 'BYTES', 'INT64'];
  return {
    model_name: 'm',
    model_version: '',
    id: `mixed-${seed}`,
    inputs: types.map((datatype, i) => ({ name: `in${i}`, datatype, shape: [rows, PER_ROW], parameters: {} })),
    raw_input_contents: types.map((datatype, i) => rawRows(datatype, rows, seed * 10 + i)),
    ...extra,
  };
}

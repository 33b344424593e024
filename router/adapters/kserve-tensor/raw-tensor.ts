// The codec's internal tensor form: raw little-endian row-major bytes, exactly as gRPC raw contents carry them.
import type { Datatype } from '../../core/datatype.js';

export interface RawTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  /** Fixed-size types: count * size bytes. BYTES: per element a uint32 LE length, then the bytes. */
  raw: Buffer;
}

/** One element of a flat JSON tensor; bigint only for 64-bit integers beyond Number.MAX_SAFE_INTEGER. */
export type JsonElement = number | bigint | boolean | string;

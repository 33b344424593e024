// Reads fixed-size little-endian elements out of validated raw bytes into the JS forms JSON and typed contents use.
import { BF16, FP16 } from './half-float.js';

/** Fixed-size datatypes whose elements read as JS numbers. */
export type NumberDatatype = 'INT8' | 'INT16' | 'INT32' | 'UINT8' | 'UINT16' | 'UINT32' | 'FP16' | 'BF16' | 'FP32' | 'FP64';

const TWO_POW_32 = 4294967296;

// raw usually is a view into a larger gRPC message at any alignment, so DataView rather than typed arrays.
function viewOf(raw: Buffer): DataView {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

export function readBools(raw: Buffer, count: number): boolean[] {
  const out = new Array<boolean>(count);
  for (let i = 0; i < count; i++) out[i] = raw[i] !== 0;
  return out;
}

export function readNumbers(datatype: NumberDatatype, raw: Buffer, count: number): number[] {
  const view = viewOf(raw);
  const out = new Array<number>(count);
  switch (datatype) {
    case 'INT8': for (let i = 0; i < count; i++) out[i] = view.getInt8(i); break;
    case 'UINT8': for (let i = 0; i < count; i++) out[i] = view.getUint8(i); break;
    case 'INT16': for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true); break;
    case 'UINT16': for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true); break;
    case 'INT32': for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true); break;
    case 'UINT32': for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true); break;
    case 'FP32': for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true); break;
    case 'FP64': for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true); break;
    case 'FP16': for (let i = 0; i < count; i++) out[i] = FP16.toNumber(view.getUint16(i * 2, true)); break;
    case 'BF16': for (let i = 0; i < count; i++) out[i] = BF16.toNumber(view.getUint16(i * 2, true)); break;
  }
  return out;
}

/** 64-bit integers as numbers where Number.isSafeInteger holds, else bigint. */
export function readInt64s(raw: Buffer, count: number, signed: boolean): (number | bigint)[] {
  const view = viewOf(raw);
  const out = new Array<number | bigint>(count);
  for (let i = 0; i < count; i++) out[i] = int64At(view, i * 8, signed);
  return out;
}

/** 64-bit integers as decimal strings, the form proto-loader uses for int64/uint64 with longs: String. */
export function readInt64Strings(raw: Buffer, count: number, signed: boolean): string[] {
  const view = viewOf(raw);
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) out[i] = String(int64At(view, i * 8, signed));
  return out;
}

// No BigInt is made in the common case: |high| < 2^21 keeps high * 2^32 + low exact, which covers every safe
// integer except -(2^53), and isSafeInteger rules that one out.
function int64At(view: DataView, offset: number, signed: boolean): number | bigint {
  const high = signed ? view.getInt32(offset + 4, true) : view.getUint32(offset + 4, true);
  if (high >= -0x200000 && high < 0x200000) {
    const value = high * TWO_POW_32 + view.getUint32(offset, true);
    if (Number.isSafeInteger(value)) return value;
  }
  return signed ? view.getBigInt64(offset, true) : view.getBigUint64(offset, true);
}

/** BYTES elements of already-validated framing, each decoded as UTF-8 (invalid sequences become U+FFFD). */
export function readStrings(raw: Buffer, count: number): string[] {
  const out = new Array<string>(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const start = offset + 4;
    offset = start + raw.readUInt32LE(offset);
    out[i] = raw.toString('utf8', start, offset);
  }
  return out;
}

/** BYTES elements of already-validated framing as zero-copy views. */
export function readByteViews(raw: Buffer, count: number): Buffer[] {
  const out = new Array<Buffer>(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const start = offset + 4;
    offset = start + raw.readUInt32LE(offset);
    out[i] = raw.subarray(start, offset);
  }
  return out;
}

// Writes runs of JS values as fixed-size little-endian elements, checking each value against the datatype.
import type { Datatype } from '../../core/datatype.js';
import { BF16, FP16 } from './half-float.js';
import { INT64_RANGE_TEXT, UINT64_RANGE_TEXT, int64Element } from './int64-element.js';
import { describeValue, tensorFault, type TensorSide } from './tensor-fault.js';

export type FixedDatatype = Exclude<Datatype, 'BYTES'>;

const TWO_POW_32 = 4294967296;

/** [min, max, bytes] for the integer types JS numbers cover exactly. */
const SMALL_INTS = {
  INT8: [-128, 127, 1], INT16: [-32768, 32767, 2], INT32: [-2147483648, 2147483647, 4],
  UINT8: [0, 255, 1], UINT16: [0, 65535, 2], UINT32: [0, 4294967295, 4],
} as const;

/** Writes values[i] as element first + i of view. Loops are per datatype so each stays monomorphic. */
export function writeFixedElements(
  side: TensorSide, tensorName: string, datatype: FixedDatatype,
  values: readonly unknown[], view: DataView, first: number,
): void {
  const n = values.length;
  switch (datatype) {
    case 'BOOL':
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'boolean') throw elementFault(side, tensorName, datatype, first + i, v, 'must be a boolean');
        view.setUint8(first + i, v ? 1 : 0);
      }
      return;
    case 'INT8': case 'INT16': case 'INT32': case 'UINT8': case 'UINT16': case 'UINT32': {
      const [min, max, size] = SMALL_INTS[datatype];
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) {
          throw elementFault(side, tensorName, datatype, first + i, v, 'must be an integer');
        }
        if (v < min || v > max) {
          throw elementFault(side, tensorName, datatype, first + i, v, `is outside [${min}, ${max}]`);
        }
        const offset = (first + i) * size;
        if (size === 1) view.setUint8(offset, v & 0xff);
        else if (size === 2) view.setUint16(offset, v & 0xffff, true);
        else view.setUint32(offset, v >>> 0, true);
      }
      return;
    }
    case 'INT64': case 'UINT64': {
      const signed = datatype === 'INT64';
      for (let i = 0; i < n; i++) {
        const v = int64Element(values[i], signed);
        const offset = (first + i) * 8;
        if (typeof v === 'number') {
          // Safe integers split exactly: >>> 0 is the value mod 2^32, and floor division gives the two's-complement high word.
          view.setUint32(offset, v >>> 0, true);
          view.setInt32(offset + 4, Math.floor(v / TWO_POW_32), true);
        } else if (typeof v === 'bigint') {
          if (signed) view.setBigInt64(offset, v, true);
          else view.setBigUint64(offset, v, true);
        } else {
          const detail = v === 'type'
            ? 'must be an integer (number, bigint or decimal string)'
            : `is outside ${signed ? INT64_RANGE_TEXT : UINT64_RANGE_TEXT}`;
          throw elementFault(side, tensorName, datatype, first + i, values[i], detail);
        }
      }
      return;
    }
    case 'FP32':
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') throw elementFault(side, tensorName, datatype, first + i, v, 'must be a number');
        view.setFloat32((first + i) * 4, v, true);
      }
      return;
    case 'FP64':
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') throw elementFault(side, tensorName, datatype, first + i, v, 'must be a number');
        view.setFloat64((first + i) * 8, v, true);
      }
      return;
    case 'FP16': case 'BF16': {
      const format = datatype === 'FP16' ? FP16 : BF16;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') throw elementFault(side, tensorName, datatype, first + i, v, 'must be a number');
        view.setUint16((first + i) * 2, format.fromNumber(v), true);
      }
      return;
    }
  }
}

/** A value that does not fit its datatype; an array where a scalar belongs means the nesting is wrong, not the type. */
export function elementFault(
  side: TensorSide, tensorName: string, datatype: Datatype, index: number, value: unknown, detail: string,
): Error {
  if (Array.isArray(value)) {
    return tensorFault(side, tensorName, 'shape', `element ${index} is an array: data is nested deeper than the shape`);
  }
  return tensorFault(side, tensorName, 'datatype', `${datatype} element ${index} (${describeValue(value)}) ${detail}`);
}

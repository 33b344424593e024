// Reads a JS value as a 64-bit integer (number, bigint or decimal string) with the exact INT64/UINT64 range check.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

// 20 digits is the longest in-range value; anything longer is out of range anyway and not worth a BigInt parse.
const DECIMAL = /^-?[0-9]{1,20}$/;

export const INT64_RANGE_TEXT = `[${INT64_MIN}, ${INT64_MAX}]`;
export const UINT64_RANGE_TEXT = `[0, ${UINT64_MAX}]`;

/**
 * The value as a safe-integer number when it fits (the cheap, common case) or as a bigint; 'type' when it is not
 * an integer at all, 'range' when it is one but does not fit.
 */
export function int64Element(value: unknown, signed: boolean): number | bigint | 'type' | 'range' {
  let big: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return 'type';
    if (Number.isSafeInteger(value)) return signed || value >= 0 ? value : 'range';
    big = BigInt(value);
  } else if (typeof value === 'string') {
    if (!DECIMAL.test(value)) return 'type';
    // Up to 15 digits Number() is exact (< 2^53), so skip the BigInt allocation.
    if (value.length - (value.charCodeAt(0) === 45 /* '-' */ ? 1 : 0) <= 15) {
      const small = Number(value);
      return signed || small >= 0 ? small : 'range';
    }
    big = BigInt(value);
  } else if (typeof value === 'bigint') {
    big = value;
  } else {
    return 'type';
  }
  if (signed ? big < INT64_MIN || big > INT64_MAX : big < 0n || big > UINT64_MAX) return 'range';
  return big;
}

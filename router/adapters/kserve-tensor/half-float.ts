// FP16 and BF16 <-> JS number, rounding straight from the double (round-to-nearest-even, no double rounding via FP32).

// Exact powers of two for every exponent the two formats need; built by doubling so no pow() accuracy is assumed.
const POW2_MIN = -160;
const POW2 = new Float64Array(321);
POW2[-POW2_MIN] = 1;
for (let k = 1; k <= 160; k++) {
  POW2[-POW2_MIN + k] = (POW2[-POW2_MIN + k - 1] as number) * 2;
  POW2[-POW2_MIN - k] = (POW2[-POW2_MIN - k + 1] as number) / 2;
}
function pow2(k: number): number {
  return POW2[k - POW2_MIN] as number;
}

const SCRATCH = new DataView(new ArrayBuffer(8));

/** Unbiased binary exponent of a positive normal double (floor(log2(a)), exactly). */
function exponentOf(a: number): number {
  SCRATCH.setFloat64(0, a, true);
  return ((SCRATCH.getUint32(4, true) >>> 20) & 0x7ff) - 1023;
}

/** Round a non-negative double below 2^12 to an integer, ties to even. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const frac = x - floor; // exact: x and floor share an exponent range
  if (frac > 0.5) return floor + 1;
  if (frac < 0.5) return floor;
  return floor + (floor & 1);
}

/** A 16-bit IEEE-style binary format: 1 sign bit, expBits exponent bits, mantBits fraction bits. */
export class HalfFloat {
  readonly #mantBits: number;
  readonly #bias: number;
  readonly #minExp: number;
  readonly #expField: number;
  readonly #infBits: number;
  readonly #nanBits: number;

  constructor(expBits: number, mantBits: number) {
    this.#mantBits = mantBits;
    this.#bias = (1 << (expBits - 1)) - 1;
    this.#minExp = 1 - this.#bias;
    this.#expField = (1 << expBits) - 1;
    this.#infBits = this.#expField << mantBits;
    this.#nanBits = this.#infBits | (1 << (mantBits - 1)); // the canonical quiet NaN
  }

  /** Bits of the nearest representable value; overflow goes to Inf, tiny values to subnormals or signed zero. */
  fromNumber(value: number): number {
    if (value !== value) return this.#nanBits;
    const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
    const a = Math.abs(value);
    if (a === Infinity) return sign | this.#infBits;
    const mantBits = this.#mantBits;
    if (a < pow2(this.#minExp)) {
      // Subnormal: units of 2^(minExp - mantBits); rounding up to 2^mantBits lands exactly on the smallest normal.
      return sign | roundHalfEven(a * pow2(mantBits - this.#minExp));
    }
    const exp = exponentOf(a);
    if (exp > this.#bias) return sign | this.#infBits;
    // a scaled into [2^mantBits, 2^(mantBits+1)]; a carry out of the fraction bumps the exponent, possibly to Inf.
    const significand = roundHalfEven(a * pow2(mantBits - exp));
    const bits = ((exp + this.#bias) << mantBits) + significand - (1 << mantBits);
    return sign | (bits >= this.#infBits ? this.#infBits : bits);
  }

  toNumber(bits: number): number {
    const mantBits = this.#mantBits;
    const exp = (bits >>> mantBits) & this.#expField;
    const fraction = bits & ((1 << mantBits) - 1);
    let magnitude: number;
    if (exp === 0) magnitude = fraction * pow2(this.#minExp - mantBits);
    else if (exp === this.#expField) magnitude = fraction === 0 ? Infinity : Number.NaN;
    else magnitude = (fraction + (1 << mantBits)) * pow2(exp - this.#bias - mantBits);
    return bits & 0x8000 ? -magnitude : magnitude;
  }
}

/** IEEE 754 binary16. */
export const FP16 = new HalfFloat(5, 10);
/** bfloat16: FP32's exponent range with a 7-bit fraction. */
export const BF16 = new HalfFloat(8, 7);

// FP16/BF16 conversion: known encodings, round-to-nearest-even edges, and exhaustive checks over all 65,536 patterns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BF16, FP16, type HalfFloat } from '../../../../router/adapters/kserve-tensor/index.js';

const hex = (bits: number): string => `0x${bits.toString(16).padStart(4, '0')}`;

function assertBits(format: HalfFloat, value: number, expected: number): void {
  assert.equal(hex(format.fromNumber(value)), hex(expected), `fromNumber(${value})`);
}

test('FP16 encodes known values', () => {
  assertBits(FP16, 1, 0x3c00);
  assertBits(FP16, -2, 0xc000);
  assertBits(FP16, 0.5, 0x3800);
  assertBits(FP16, 65504, 0x7bff); // largest finite
  assertBits(FP16, 2 ** -14, 0x0400); // smallest normal
  assertBits(FP16, 2 ** -24, 0x0001); // smallest subnormal
  assertBits(FP16, 1023 * 2 ** -24, 0x03ff); // largest subnormal
  assertBits(FP16, 0.1, 0x2e66);
  assertBits(FP16, 1 / 3, 0x3555);
  assertBits(FP16, 0, 0x0000);
  assertBits(FP16, -0, 0x8000);
  assertBits(FP16, Infinity, 0x7c00);
  assertBits(FP16, -Infinity, 0xfc00);
  assertBits(FP16, Number.NaN, 0x7e00);
});

test('FP16 rounds to nearest, ties to even, straight from the double', () => {
  assertBits(FP16, 1 + 2 ** -11, 0x3c00); // tie between 0x3c00 and 0x3c01: even wins
  assertBits(FP16, 1 + 3 * 2 ** -11, 0x3c02); // tie between 0x3c01 and 0x3c02: even wins
  assertBits(FP16, 1 + 2 ** -11 + 2 ** -30, 0x3c01); // just above the tie
  // Rounding via FP32 first would land exactly on the tie and pick 0x3c00: the double must be rounded once.
  assertBits(FP16, 1 + 2 ** -11 + 2 ** -40, 0x3c01);
  assertBits(FP16, 2 - 2 ** -12, 0x4000); // carry out of the fraction bumps the exponent
  assertBits(FP16, 65519, 0x7bff); // below max + half ulp
  assertBits(FP16, 65519.99, 0x7bff);
  assertBits(FP16, 65520, 0x7c00); // the tie with "65536" goes to even, which is Inf
  assertBits(FP16, 1e6, 0x7c00);
  assertBits(FP16, -1e300, 0xfc00);
  assertBits(FP16, 2 ** -25, 0x0000); // tie between 0 and the smallest subnormal: even (zero)
  assertBits(FP16, -(2 ** -25), 0x8000);
  assertBits(FP16, 2 ** -25 * 1.000001, 0x0001);
  assertBits(FP16, 1.5 * 2 ** -24, 0x0002); // subnormal tie 1|2 -> 2
  assertBits(FP16, 2.5 * 2 ** -24, 0x0002); // subnormal tie 2|3 -> 2
  assertBits(FP16, 1023.5 * 2 ** -24, 0x0400); // largest subnormal rounds up into the smallest normal
  assertBits(FP16, 1e-10, 0x0000);
  assertBits(FP16, Number.MIN_VALUE, 0x0000);
});

test('FP16 decodes special values', () => {
  assert.equal(FP16.toNumber(0x3c00), 1);
  assert.equal(FP16.toNumber(0x0001), 2 ** -24);
  assert.equal(FP16.toNumber(0x7bff), 65504);
  assert.equal(FP16.toNumber(0x7c00), Infinity);
  assert.equal(FP16.toNumber(0xfc00), -Infinity);
  assert.ok(Object.is(FP16.toNumber(0x8000), -0));
  assert.ok(Number.isNaN(FP16.toNumber(0x7e00)));
  assert.ok(Number.isNaN(FP16.toNumber(0xfd01)));
});

test('BF16 encodes known values and rounding edges', () => {
  assertBits(BF16, 1, 0x3f80);
  assertBits(BF16, -2, 0xc000);
  assertBits(BF16, 3.140625, 0x4049);
  assertBits(BF16, 3.3895313892515355e38, 0x7f7f); // largest finite
  assertBits(BF16, 3.4028234663852886e38, 0x7f80); // FP32 max is past BF16 max + half ulp: Inf
  assertBits(BF16, (2 - 2 ** -8) * 2 ** 127, 0x7f80); // the overflow tie goes to even, which is Inf
  assertBits(BF16, (2 - 2 ** -8) * 2 ** 127 * (1 - 2 ** -30), 0x7f7f);
  assertBits(BF16, 2 ** -126, 0x0080); // smallest normal
  assertBits(BF16, 2 ** -133, 0x0001); // smallest subnormal
  assertBits(BF16, 2 ** -134, 0x0000); // tie with zero: even
  assertBits(BF16, 3 * 2 ** -134, 0x0002); // subnormal tie 1|2 -> 2
  assertBits(BF16, 1 + 2 ** -8, 0x3f80); // tie: even
  assertBits(BF16, 1 + 3 * 2 ** -8, 0x3f82); // tie: even
  assertBits(BF16, 1 + 2 ** -8 + 2 ** -30, 0x3f81); // via FP32 this would be a tie and round down
  assertBits(BF16, -0, 0x8000);
  assertBits(BF16, Infinity, 0x7f80);
  assertBits(BF16, -Infinity, 0xff80);
  assertBits(BF16, Number.NaN, 0x7fc0);
  assert.equal(BF16.toNumber(0x3f80), 1);
  assert.equal(BF16.toNumber(0x0001), 2 ** -133);
  assert.equal(BF16.toNumber(0xff80), -Infinity);
  assert.ok(Number.isNaN(BF16.toNumber(0x7fc1)));
});

for (const [label, format, maxFinite] of [['FP16', FP16, 0x7bff], ['BF16', BF16, 0x7f7f]] as const) {
  test(`${label}: every bit pattern survives toNumber -> fromNumber`, () => {
    const infBits = maxFinite + 1;
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = format.toNumber(bits);
      const magnitude = bits & 0x7fff;
      if (magnitude > infBits) {
        assert.ok(Number.isNaN(value), `${hex(bits)} is NaN`);
        continue;
      }
      if (format.fromNumber(value) !== bits) assert.fail(`${hex(bits)} -> ${value} -> ${hex(format.fromNumber(value))}`);
    }
  });

  test(`${label}: every midpoint between neighbours rounds to the even one, and a nudge decides`, () => {
    for (let bits = 0; bits < maxFinite; bits++) {
      const low = format.toNumber(bits);
      const high = format.toNumber(bits + 1);
      const mid = (low + high) / 2; // exact in a double
      const even = bits % 2 === 0 ? bits : bits + 1;
      if (format.fromNumber(mid) !== even) assert.fail(`midpoint of ${hex(bits)} gave ${hex(format.fromNumber(mid))}`);
      if (format.fromNumber(mid * (1 + 2 ** -40)) !== bits + 1) assert.fail(`above midpoint of ${hex(bits)}`);
      if (format.fromNumber(mid * (1 - 2 ** -40)) !== bits) assert.fail(`below midpoint of ${hex(bits)}`);
      if (format.fromNumber(-mid) !== (even | 0x8000)) assert.fail(`negative midpoint of ${hex(bits)}`);
    }
  });
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs } from '../../../router/resilience/backoff.js';

const ALMOST_ONE = 1 - Number.EPSILON;

test('full jitter: the ceiling doubles per retry from baseMs and stops at maxMs', () => {
  const cases: Array<{ retry: number; base: number; max: number; ceiling: number }> = [
    { retry: 1, base: 25, max: 250, ceiling: 25 },
    { retry: 2, base: 25, max: 250, ceiling: 50 },
    { retry: 3, base: 25, max: 250, ceiling: 100 },
    { retry: 4, base: 25, max: 250, ceiling: 200 },
    { retry: 5, base: 25, max: 250, ceiling: 250 },
    { retry: 40, base: 25, max: 250, ceiling: 250 },
    { retry: 2000, base: 25, max: 250, ceiling: 250 }, // 2 ** 1999 is Infinity: still clamped
    { retry: 1, base: 100, max: 30, ceiling: 30 },
  ];
  for (const { retry, base, max, ceiling } of cases) {
    const label = `retry ${retry}, base ${base}, max ${max}`;
    assert.equal(backoffMs(retry, base, max, () => 0), 0, label);
    assert.equal(backoffMs(retry, base, max, () => 0.5), Math.floor(ceiling / 2), label);
    assert.equal(backoffMs(retry, base, max, () => ALMOST_ONE), ceiling - 1, label);
  }
});

test('no wait before the first attempt or when a bound is 0', () => {
  const cases: Array<[retry: number, base: number, max: number]> = [
    [0, 25, 250],
    [-1, 25, 250],
    [Number.NaN, 25, 250],
    [3, 0, 250],
    [3, 25, 0],
  ];
  for (const [retry, base, max] of cases) assert.equal(backoffMs(retry, base, max, () => 0.9), 0, `${retry}/${base}/${max}`);
});

test('always a whole number of ms below the ceiling, even if random() returns 1', () => {
  assert.equal(backoffMs(3, 25, 250, () => 1), 99);
  for (let i = 0; i < 1000; i++) {
    const ms = backoffMs(1 + (i % 6), 7, 1000, () => (i * 0.6180339887) % 1);
    assert.ok(Number.isInteger(ms) && ms >= 0 && ms < Math.min(1000, 7 * 2 ** (i % 6)), `draw ${i}: ${ms}`);
  }
});

test('defaults to Math.random', () => {
  for (let i = 0; i < 200; i++) {
    const ms = backoffMs(2, 25, 250);
    assert.ok(Number.isInteger(ms) && ms >= 0 && ms < 50, String(ms));
  }
});

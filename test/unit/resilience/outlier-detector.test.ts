import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutlierDetectionConfig } from '../../../router/config/schema.js';
import { OutlierDetector } from '../../../router/resilience/outlier-detector.js';

const POLICY: OutlierDetectionConfig = { consecutiveFailures: 3, baseEjectionMs: 1_000, maxEjectionMs: 2_500, maxEjectionPercent: 50 };
const A = '10.0.0.1:8001';
const B = '10.0.0.2:8001';
const C = '10.0.0.3:8001';

function setup(policy: Partial<OutlierDetectionConfig> = {}): { detector: OutlierDetector; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  return { detector: new OutlierDetector({ ...POLICY, ...policy }, () => clock.t), clock };
}

/** Fails `address` n times; returns which calls ejected it (1-based). */
function fail(detector: OutlierDetector, address: string, n: number, clusterSize = 10): number[] {
  const ejectedAt: number[] = [];
  for (let i = 1; i <= n; i++) if (detector.failure(address, clusterSize)) ejectedAt.push(i);
  return ejectedAt;
}

test('ejects exactly at the consecutive-failure threshold', () => {
  for (const threshold of [1, 2, 3, 5]) {
    const { detector } = setup({ consecutiveFailures: threshold });
    assert.deepEqual(fail(detector, A, threshold - 1), [], `threshold ${threshold}`);
    assert.equal(detector.isEjected(A), false);
    assert.equal(detector.failure(A, 10), true, `threshold ${threshold}`);
    assert.equal(detector.isEjected(A), true);
    assert.equal(detector.ejectedCount(), 1);
  }
});

test('a success resets the consecutive count', () => {
  const { detector } = setup();
  fail(detector, A, 2);
  detector.success(A);
  assert.deepEqual(fail(detector, A, 2), []);
  assert.equal(detector.isEjected(A), false);
  assert.equal(detector.failure(A, 10), true);
});

test('counts are per endpoint', () => {
  const { detector } = setup();
  fail(detector, A, 2);
  fail(detector, B, 2);
  assert.equal(detector.failure(A, 10), true);
  assert.equal(detector.isEjected(B), false);
  assert.deepEqual(detector.snapshot()[B], { ejectedUntil: null, ejections: 0, consecutiveFailures: 2 });
});

test('never ejects more than maxEjectionPercent of the cluster', () => {
  const cases: Array<{ size: number; percent: number; maxEjected: number }> = [
    { size: 3, percent: 50, maxEjected: 1 },
    { size: 4, percent: 50, maxEjected: 2 },
    { size: 1, percent: 50, maxEjected: 0 },
    { size: 1, percent: 100, maxEjected: 1 },
    { size: 3, percent: 100, maxEjected: 3 },
    { size: 10, percent: 10, maxEjected: 1 },
    { size: 3, percent: 0, maxEjected: 0 },
  ];
  for (const { size, percent, maxEjected } of cases) {
    const { detector } = setup({ maxEjectionPercent: percent });
    const addresses = Array.from({ length: size }, (_, i) => `10.0.1.${i}:8001`);
    for (const address of addresses) fail(detector, address, 10, size);
    assert.equal(detector.ejectedCount(), maxEjected, `${size} endpoints at ${percent} %`);
    assert.equal(addresses.filter((a) => detector.isEjected(a)).length, maxEjected);
  }
});

test('3 endpoints at 50 %: a second endpoint is ejected only once the first is back', () => {
  const { detector, clock } = setup();
  assert.deepEqual(fail(detector, A, 3, 3), [3]);
  assert.deepEqual(fail(detector, B, 5, 3), []);
  assert.equal(detector.isEjected(B), false);
  assert.equal(detector.ejectedCount(), 1);
  clock.t += 1_000;
  assert.equal(detector.isEjected(A), false);
  // B kept its count while capped, so its next failure ejects it.
  assert.equal(detector.failure(B, 3), true);
  assert.equal(detector.failure(C, 3), false);
  assert.deepEqual(fail(detector, C, 5, 3), []);
  assert.equal(detector.ejectedCount(), 1);
});

test('ejection lasts baseEjectionMs × ejections, capped at maxEjectionMs, then the endpoint returns', () => {
  const { detector, clock } = setup();
  const expected = [1_000, 2_000, 2_500, 2_500];
  expected.forEach((duration, i) => {
    const label = `ejection ${i + 1}`;
    const start = clock.t;
    assert.deepEqual(fail(detector, A, 3), [3], label);
    assert.deepEqual(detector.snapshot()[A], { ejectedUntil: start + duration, ejections: i + 1, consecutiveFailures: 0 }, label);
    clock.t = start + duration - 1;
    assert.equal(detector.isEjected(A), true, label);
    clock.t = start + duration;
    assert.equal(detector.isEjected(A), false, label);
    assert.equal(detector.ejectedCount(), 0, label);
  });
});

test('an endpoint back from ejection starts at 0 failures; failures while ejected are ignored', () => {
  const { detector, clock } = setup();
  fail(detector, A, 3);
  assert.deepEqual(fail(detector, A, 5), []); // in-flight requests finishing after the ejection
  clock.t += 1_000;
  assert.deepEqual(detector.snapshot()[A], { ejectedUntil: null, ejections: 1, consecutiveFailures: 0 });
  assert.deepEqual(fail(detector, A, 2), []);
  assert.equal(detector.failure(A, 10), true);
});

test('expiry is noticed by ejectedCount and snapshot too, not only isEjected', () => {
  const { detector, clock } = setup();
  fail(detector, A, 3);
  fail(detector, B, 3);
  assert.equal(detector.ejectedCount(), 2);
  clock.t += 1_000;
  assert.equal(detector.ejectedCount(), 0);
  fail(detector, C, 3);
  clock.t += 1_000;
  assert.equal(detector.snapshot()[C]?.ejectedUntil, null);
});

test('forget starts the endpoint afresh: not ejected, count and multiplier reset', () => {
  const { detector, clock } = setup();
  fail(detector, A, 3);
  clock.t += 1_000;
  fail(detector, A, 3);
  assert.equal(detector.isEjected(A), true);
  detector.forget(A);
  assert.equal(detector.isEjected(A), false);
  assert.equal(detector.ejectedCount(), 0);
  assert.equal(detector.snapshot()[A], undefined);
  const start = clock.t;
  assert.deepEqual(fail(detector, A, 3), [3]);
  assert.equal(detector.snapshot()[A]?.ejectedUntil, start + 1_000);
});

test('snapshot lists only endpoints with something to remember', () => {
  const { detector, clock } = setup();
  detector.success(A);
  fail(detector, B, 1);
  fail(detector, C, 3);
  assert.deepEqual(detector.snapshot(), {
    [B]: { ejectedUntil: null, ejections: 0, consecutiveFailures: 1 },
    [C]: { ejectedUntil: clock.t + 1_000, ejections: 1, consecutiveFailures: 0 },
  });
  detector.success(B);
  detector.success(C);
  assert.deepEqual(Object.keys(detector.snapshot()), [C]); // C keeps its ejection multiplier
});

test('defaults to the wall clock', () => {
  const detector = new OutlierDetector({ ...POLICY, consecutiveFailures: 1 });
  const before = Date.now();
  assert.equal(detector.failure(A, 2), true);
  const until = detector.snapshot()[A]?.ejectedUntil ?? 0;
  assert.ok(until >= before + 1_000 && until <= Date.now() + 1_000, String(until));
  assert.equal(detector.isEjected(A), true);
});

// Active health checks with a scripted probe and small real intervals. The tests wait for states
// (never assert durations): thresholds both ways, timeouts and throws as failures, one probe at a
// time per endpoint, and remove/stop ending the probing and aborting probes in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../../../router/core/endpoint.js';
import { HealthChecker, type Probe } from '../../../router/clusters/health-checker.js';
import { settle, waitUntil } from './wait-until.js';

const A: Endpoint = { address: '10.0.0.1:8001', cluster: 'c' };
const B: Endpoint = { address: '10.0.0.2:8001', cluster: 'c' };
const config = (over: Partial<{ intervalMs: number; timeoutMs: number; unhealthyThreshold: number; healthyThreshold: number }> = {}) => ({
  intervalMs: 1,
  timeoutMs: 1_000,
  unhealthyThreshold: 2,
  healthyThreshold: 1,
  ...over,
});

/** A probe answering from a script (true/false, 'throw', 'reject', 'hang'); past the end it repeats the last step. */
function scripted(script: (boolean | 'throw' | 'reject' | 'hang')[]): { probe: Probe; calls: () => number; signals: AbortSignal[] } {
  let calls = 0;
  const signals: AbortSignal[] = [];
  const probe: Probe = (_endpoint, signal) => {
    const step = script[Math.min(calls, script.length - 1)];
    calls++;
    signals.push(signal);
    if (step === 'throw') throw new Error('probe bug');
    if (step === 'reject') return Promise.reject(new Error('connection refused'));
    if (step === 'hang') return new Promise<boolean>(() => {});
    return Promise.resolve(step === true);
  };
  return { probe, calls: () => calls, signals };
}

interface Transition {
  address: string;
  healthy: boolean;
  afterProbes: number;
}

test('a new endpoint is healthy until proven otherwise, and is probed at once', async () => {
  let resolve: ((ok: boolean) => void) | undefined;
  let calls = 0;
  const checker = new HealthChecker(config({ unhealthyThreshold: 1 }), () => {
    calls++;
    return new Promise((r) => (resolve = r));
  });
  checker.add(A);
  assert.equal(calls, 1, 'first probe right away');
  assert.equal(checker.isHealthy(A.address), true, 'optimistic while the first probe is out');
  assert.equal(checker.isHealthy(B.address), false, 'an address not being checked is not healthy');
  resolve?.(false);
  await waitUntil(() => !checker.isHealthy(A.address), 'A down');
  checker.stop();
});

test('unhealthyThreshold consecutive failures take an endpoint out; healthyThreshold successes bring it back', async () => {
  const { probe, calls } = scripted([false, true, false, false, false, true, false, true, true]);
  const transitions: Transition[] = [];
  const checker = new HealthChecker(config({ unhealthyThreshold: 3, healthyThreshold: 2 }), probe, (address, healthy) =>
    transitions.push({ address, healthy, afterProbes: calls() }),
  );
  checker.add(A);
  await waitUntil(() => transitions.length === 2, 'down and up again');
  checker.stop();
  assert.deepEqual(transitions, [
    { address: A.address, healthy: false, afterProbes: 5 }, // the success at probe 2 reset the count
    { address: A.address, healthy: true, afterProbes: 9 }, // the failure at probe 7 reset the count
  ]);
});

test('a probe that throws, rejects, or answers false is a failure; one that outlives timeoutMs is too, and is aborted', async () => {
  for (const step of ['throw', 'reject', false] as const) {
    const { probe } = scripted([step]);
    const checker = new HealthChecker(config({ unhealthyThreshold: 2 }), probe);
    checker.add(A);
    await waitUntil(() => !checker.isHealthy(A.address), `${String(step)} → unhealthy`);
    checker.stop();
  }

  // The hanging probe ignores its signal: the checker still gives up at the timeout and probes again.
  const { probe, calls, signals } = scripted(['hang', 'hang', true]);
  const transitions: Transition[] = [];
  const checker = new HealthChecker(config({ timeoutMs: 10, unhealthyThreshold: 2 }), probe, (address, healthy) =>
    transitions.push({ address, healthy, afterProbes: calls() }),
  );
  checker.add(A);
  await waitUntil(() => transitions.length === 2, 'down after two timeouts, up after the success');
  checker.stop();
  assert.deepEqual(transitions.map((t) => [t.healthy, t.afterProbes]), [[false, 2], [true, 3]]);
  assert.equal(signals[0]?.aborted, true);
  assert.match(String(signals[0]?.reason), /timed out after 10 ms/);
});

test('the probe gets the deadline now() + timeoutMs', async () => {
  const deadlines: number[] = [];
  const checker = new HealthChecker(config({ timeoutMs: 750 }), async (_e, _s, deadline) => {
    deadlines.push(deadline);
    return true;
  }, undefined, () => 1_000_000);
  checker.add(A);
  await waitUntil(() => deadlines.length >= 1, 'a probe');
  checker.stop();
  assert.equal(deadlines[0], 1_000_750);
});

test('probes of one endpoint never overlap, even when slower than intervalMs', async () => {
  let active = 0;
  let maxActive = 0;
  let calls = 0;
  const checker = new HealthChecker(config({ intervalMs: 1 }), async () => {
    calls++;
    active++;
    maxActive = Math.max(maxActive, active);
    await settle(15);
    active--;
    return true;
  });
  checker.add(A);
  checker.add(A); // adding twice does not start a second loop
  await waitUntil(() => calls >= 4, 'several probes');
  checker.stop();
  assert.equal(maxActive, 1);
});

test('remove stops probing that endpoint, aborts its probe in flight, and reports nothing for it afterwards', async () => {
  const probedA: AbortSignal[] = [];
  let probesB = 0;
  const transitions: Transition[] = [];
  const checker = new HealthChecker(config({ unhealthyThreshold: 1 }), (endpoint, signal) => {
    if (endpoint.address === B.address) {
      probesB++;
      return Promise.resolve(true);
    }
    probedA.push(signal);
    // A's probes hang until aborted, then fail: after remove that failure must not be reported.
    return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
  }, (address, healthy) => transitions.push({ address, healthy, afterProbes: 0 }));
  checker.add(A);
  checker.add(B);
  await waitUntil(() => probesB >= 3, 'B probed repeatedly');
  checker.remove(A.address);
  assert.equal(probedA.length, 1);
  assert.equal(probedA[0]?.aborted, true);
  assert.equal(checker.isHealthy(A.address), false, 'no longer checked');
  const before = probesB;
  await settle(40);
  assert.equal(probedA.length, 1, 'A is not probed again');
  assert.ok(probesB > before, 'B still is');
  assert.deepEqual(transitions, []);
  checker.remove('10.9.9.9:1'); // unknown: a no-op

  // Re-adding starts afresh, optimistic again.
  checker.add(A);
  assert.equal(checker.isHealthy(A.address), true);
  assert.equal(probedA.length, 2);
  checker.stop();
});

test('stop clears every timer and aborts every probe in flight; add after stop is a no-op', async () => {
  const signals: AbortSignal[] = [];
  let calls = 0;
  const checker = new HealthChecker(config(), (endpoint, signal) => {
    calls++;
    if (endpoint.address === A.address) {
      signals.push(signal);
      return new Promise<boolean>(() => {}); // hangs past stop
    }
    return Promise.resolve(true);
  });
  checker.add(A);
  checker.add(B);
  await waitUntil(() => calls >= 5, 'B probed repeatedly while A hangs');
  checker.stop();
  assert.equal(signals.length, 1);
  assert.equal(signals[0]?.aborted, true);
  const at = calls;
  await settle(40);
  assert.equal(calls, at, 'no probe after stop');
  checker.add({ address: '10.0.0.3:8001', cluster: 'c' });
  assert.equal(calls, at);
  assert.equal(checker.isHealthy(B.address), false);
});

test('config values must be positive integers', () => {
  const probe: Probe = async () => true;
  for (const key of ['intervalMs', 'timeoutMs', 'unhealthyThreshold', 'healthyThreshold'] as const) {
    assert.throws(() => new HealthChecker(config({ [key]: 0 }), probe), new RegExp(`healthCheck\\.${key}`));
  }
});

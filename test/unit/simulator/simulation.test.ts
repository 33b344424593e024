// The simulation's bookkeeping with the HPA in the loop: GPU-hours, the pod lifecycle (start-up
// delay, drain, kill at the grace period), request conservation, and the HPA reacting to load.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HpaSpec } from '../../../loadtests/simulator/hpa.js';
import { fixedFleetConfig } from '../../../loadtests/simulator/resolve-run.js';
import { runSimulation, type SimulationConfig } from '../../../loadtests/simulator/simulation.js';
import type { Trace } from '../../../loadtests/simulator/trace.js';
import { MD1_PROFILE, TINY_LLM_PROFILE } from './test-profiles.js';

function trace(points: [number, number][]): Trace {
  return { name: 't', description: '', unit: 'requests/s', points };
}

function config(overrides: Partial<SimulationConfig>): SimulationConfig {
  return fixedFleetConfig(MD1_PROFILE, trace([[0, 50], [3600, 50]]), {
    pendingS: 60,
    loadingS: 30,
    terminationGraceS: 60,
    routerMaxInFlight: 1024,
    maxInFlightPerEndpoint: 256,
    sloMs: 50,
    tolerance: 0.1,
    ...overrides,
  });
}

const queueHpa: HpaSpec = {
  name: 'test',
  minReplicas: 1,
  maxReplicas: 6,
  metrics: [{ type: 'Pods', name: 'nv_inference_pending_request_count', target: { type: 'AverageValue', averageValue: 2 } }],
  behavior: { scaleDown: { stabilizationWindowSeconds: 120 } },
};

describe('simulation', () => {
  it('a fixed fleet of 3 for one hour is 3 GPU-hours; every request is accounted for', () => {
    const { totals, timeline } = runSimulation(config({ initialReplicas: 3 }));
    assert.equal(totals.gpuHours, 3);
    assert.equal(totals.replicasMeanReady, 3);
    assert.equal(totals.completed + totals.shed + totals.killed + totals.inFlightAtEnd, totals.requests);
    assert.equal(timeline.length, 60);
    assert.equal(timeline.reduce((n, w) => n + w.arrivals, 0), totals.requests);
  });

  it('overload → the HPA adds pods that serve only after their start-up delay; idle → it removes them after the window', () => {
    // 1 replica serves 100 req/s (10 ms each); 250 req/s for 20 min needs 3, then 20 req/s needs 1.
    const { totals, timeline } = runSimulation(config({ hpa: queueHpa, trace: trace([[0, 250], [1200, 250], [1201, 20], [3600, 20]]) }));
    assert.ok(totals.scaleUps > 0 && totals.scaleDowns > 0);
    const first = timeline.findIndex((w) => w.replicasStarting > 0);
    const firstReady = timeline.findIndex((w) => w.replicasReady > 1);
    assert.ok(first >= 0 && firstReady >= first + 1, `ready (window ${firstReady}) only after start-up (window ${first})`);
    assert.ok(Math.max(...timeline.map((w) => w.replicasReady)) >= 3);
    assert.ok(Math.max(...timeline.map((w) => w.replicasReady)) <= 6);
    assert.equal(timeline.at(-1)?.replicasReady, 1);
    assert.equal(totals.killed, 0, 'a 10 ms request always drains within the grace period');
    assert.equal(totals.completed + totals.shed + totals.killed + totals.inFlightAtEnd, totals.requests);
    // GPU-hours include starting pods: more than the ready-replica integral.
    assert.ok(totals.gpuHours > totals.replicasMeanReady);
  });

  it('a deleted pod whose work outlasts the grace period is killed and its requests counted', () => {
    // LLM sequences of 1000 tokens at ≥ 11 ms per step take > 11 s; a 1 s grace period cannot drain them.
    const { totals } = runSimulation(
      config({
        profile: TINY_LLM_PROFILE,
        hpa: { ...queueHpa, metrics: [{ type: 'Pods', name: 'vllm_num_requests_waiting', target: { type: 'AverageValue', averageValue: 1 } }], behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } },
        initialReplicas: 4,
        terminationGraceS: 1,
        trace: trace([[0, 0.2], [600, 0.2]]),
        requestShape: { promptTokens: 16, outputTokens: 1000 },
        sloMs: 1e9,
      }),
    );
    assert.ok(totals.scaleDowns > 0);
    assert.ok(totals.killed > 0, `killed ${totals.killed}`);
    assert.equal(totals.sloViolations, totals.killed + totals.shed);
    assert.equal(totals.completed + totals.shed + totals.killed + totals.inFlightAtEnd, totals.requests);
  });
});

// The replica models against queueing theory and hand arithmetic: a batch-1, one-instance vision
// replica under Poisson arrivals is M/D/1 (Pollaczek–Khinchine: Wq = ρ / (2μ(1 − ρ))); the LLM
// engine's step arithmetic for one sequence; KV-bound admission.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LlmReplica } from '../../../loadtests/simulator/llm-replica.js';
import type { Replica, ReplicaHost, SimRequest } from '../../../loadtests/simulator/replica.js';
import { fixedFleetConfig } from '../../../loadtests/simulator/resolve-run.js';
import { runSimulation, type SimulationConfig } from '../../../loadtests/simulator/simulation.js';
import type { Trace } from '../../../loadtests/simulator/trace.js';
import { BATCHING_PROFILE, MD1_PROFILE, TINY_LLM_PROFILE } from './test-profiles.js';

function constant(rate: number, seconds: number): Trace {
  return { name: 'c', description: '', unit: 'requests/s', points: [[0, rate], [seconds, rate]] };
}

function fixedFleet(overrides: Partial<SimulationConfig>): SimulationConfig {
  return fixedFleetConfig(MD1_PROFILE, constant(70, 2000), { seed: 3, terminationGraceS: 60, tolerance: 0.1, ...overrides });
}

describe('vision replica', () => {
  for (const rho of [0.5, 0.7, 0.85]) {
    it(`M/D/1 at ρ = ${rho}: mean time in system = D + ρ/(2μ(1 − ρ)) within 3 %`, () => {
      const d = 0.01;
      const mu = 1 / d;
      const { totals } = runSimulation(fixedFleet({ trace: constant(rho * mu, 4000) }));
      const expectedMs = (d + rho / (2 * mu * (1 - rho))) * 1000;
      const rel = Math.abs(totals.latency.meanMs - expectedMs) / expectedMs;
      assert.ok(rel < 0.03, `mean ${totals.latency.meanMs} ms vs M/D/1 ${expectedMs.toFixed(3)} ms (${(rel * 100).toFixed(2)} %)`);
      assert.equal(totals.shed, 0);
    });
  }

  it('dynamic batching merges the queue: throughput above what batch 1 could do, no request lost', () => {
    // Batch 1 on two instances sharing the GPU: 2 / 3.75 ms = 533 req/s at most; 1500 req/s only fits in batches.
    const { totals } = runSimulation(fixedFleet({ profile: BATCHING_PROFILE, trace: constant(1500, 120) }));
    assert.equal(totals.completed + totals.inFlightAtEnd, totals.requests);
    assert.ok(totals.latency.p99Ms < 50, `p99 ${totals.latency.p99Ms} ms: the queue should stay bounded`);
  });

  it('sheds beyond the router\'s maxInFlight', () => {
    const { totals } = runSimulation(fixedFleet({ trace: constant(300, 60), routerMaxInFlight: 64 }));
    assert.ok(totals.shed > 0);
    assert.equal(totals.completed + totals.shed + totals.inFlightAtEnd, totals.requests);
    assert.ok(totals.latency.maxMs <= 64 * 10 + 10 + 1e-6, `no request waits behind more than 64: max ${totals.latency.maxMs} ms`);
  });
});

class RecordingHost implements ReplicaHost {
  readonly events: { time: number; replica: Replica; kind: number; payload: unknown }[] = [];
  readonly first = new Map<SimRequest, number>();
  readonly done = new Map<SimRequest, number>();
  schedule(time: number, replica: Replica, kind: number, payload: unknown): void {
    this.events.push({ time, replica, kind, payload });
    this.events.sort((a, b) => a.time - b.time);
  }
  firstToken(r: SimRequest, now: number): void {
    this.first.set(r, now);
  }
  complete(r: SimRequest, now: number): void {
    this.done.set(r, now);
  }
  runAll(): void {
    for (let e = this.events.shift(); e !== undefined; e = this.events.shift()) e.replica.onTimer(e.kind, e.payload, e.time);
  }
}

function request(promptTokens: number, outputTokens: number): SimRequest {
  return { arrival: 0, promptTokens, outputTokens, enqueued: 0, firstToken: 0, slot: undefined };
}

describe('LLM replica', () => {
  it('one sequence: TTFT = decode(1) + prefill(prompt); each further token one decode step', () => {
    const host = new RecordingHost();
    const replica = new LlmReplica(TINY_LLM_PROFILE, host);
    const r = request(100, 5);
    replica.enqueue(r, 0);
    host.runAll();
    assert.ok(Math.abs((host.first.get(r) ?? 0) - (11 + 10) / 1000) < 1e-12);
    assert.ok(Math.abs((host.done.get(r) ?? 0) - (21 + 4 * 11) / 1000) < 1e-12);
  });

  it('admits at most maxNumSeqs; the rest wait (vllm:num_requests_waiting)', () => {
    const host = new RecordingHost();
    const replica = new LlmReplica(TINY_LLM_PROFILE, host);
    for (let i = 0; i < 6; i++) replica.enqueue(request(16, 3), 0);
    // The first arrival started a step on its own (the engine was idle); the rest join at the next step.
    assert.equal(replica.running, 1);
    assert.equal(replica.queued, 5);
    const first = host.events.shift();
    first?.replica.onTimer(first.kind, first.payload, first.time);
    assert.equal(replica.running, 4);
    assert.equal(replica.queued, 2);
    host.runAll();
    assert.equal(host.done.size, 6);
  });

  it('KV cache full: the most recently admitted sequence is preempted and still finishes', () => {
    const host = new RecordingHost();
    const replica = new LlmReplica(TINY_LLM_PROFILE, host);
    // Two sequences of 480 prompt tokens take 30 blocks each of 64; growing to 512 + needs more than is left.
    const a = request(480, 100);
    const b = request(480, 100);
    replica.enqueue(a, 0);
    replica.enqueue(b, 0);
    host.runAll();
    assert.ok(replica.preemptions > 0);
    assert.equal(host.done.size, 2);
    assert.ok((host.done.get(a) ?? 0) < (host.done.get(b) ?? 0), 'the first admitted keeps running');
  });
});

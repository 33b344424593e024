// Where the layers report into telemetry, without sockets: the cluster (each attempt with its retry
// index and its context handed to the backend, outcomes and codes, retries, budget denials,
// ejections, breaker rejections), routing (the chosen model and variant), the batcher (one batch
// telemetry per merged batch, carried upstream as the attempt's context) and the mirror (each
// compared pair's result).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import type { Backend } from '../../../router/backends/backend.js';
import { Batcher } from '../../../router/batching/batcher.js';
import { Cluster } from '../../../router/clusters/cluster.js';
import { configSchema, type RetryConfig } from '../../../router/config/schema.js';
import type { CallContext } from '../../../router/core/call-context.js';
import type { Endpoint } from '../../../router/core/endpoint.js';
import { SwitchyardError } from '../../../router/core/errors.js';
import type { ModelInferResponse__Output } from '../../../router/generated/inference/ModelInferResponse.js';
import { Mirror, type MirrorComparison, type Outcome } from '../../../router/routing/mirror.js';
import { ModelRouter, type ClusterDispatch } from '../../../router/routing/model-router.js';
import { RouteTable } from '../../../router/routing/route-table.js';
import type { ClusterTelemetry } from '../../../router/telemetry/cluster-telemetry.js';
import type { AttemptInfo, AttemptTelemetry, BatchTelemetry, RequestTelemetry, Telemetry } from '../../../router/telemetry/request-telemetry.js';
import { EchoUpstream } from '../batching/echo-upstream.js';
import { FakeClock, settle } from '../batching/fake-clock.js';
import { rowsRequest } from '../batching/tensor-fixtures.js';

const silent = pino({ level: 'silent' }) as FastifyBaseLogger;
const ANSWER = { model_name: 'm', model_version: '1', id: '', parameters: {}, outputs: [], raw_output_contents: [] } as unknown as ModelInferResponse__Output;

/** Records what a cluster reports. */
class RecordingClusterTelemetry implements ClusterTelemetry {
  readonly events: string[] = [];
  attempt(endpoint: string, seconds: number, code: string | undefined) {
    assert.ok(seconds >= 0);
    this.events.push(`attempt ${endpoint} ${code ?? 'ok'}`);
  }
  retry() {
    this.events.push('retry');
  }
  retryDenied() {
    this.events.push('retry-denied');
  }
  ejected(endpoint: string) {
    this.events.push(`ejected ${endpoint}`);
  }
  overloaded() {
    this.events.push('overloaded');
  }
}

/** A request telemetry that records its attempts and what routing chose. */
class RecordingRequest implements RequestTelemetry {
  readonly traceId = undefined;
  readonly events: string[] = [];
  readonly attempts: AttemptTelemetry[] = [];
  routed(model: string, variant: string) {
    this.events.push(`routed ${model} ${variant}`);
  }
  attempt(info: AttemptInfo): AttemptTelemetry {
    this.events.push(`attempt ${info.cluster} ${info.endpoint} ${info.retry}`);
    const attempt: AttemptTelemetry = {
      inject: (set) => set('traceparent', `attempt-${info.retry}`),
      end: (error?: unknown) => this.events.push(`attempt-end ${error === undefined ? 'ok' : (error as SwitchyardError).code}`),
    };
    this.attempts.push(attempt);
    return attempt;
  }
  firstToken() {}
  token() {}
  usage() {}
  end() {}
}

/** A backend whose infer fails the first `failures` calls with UNAVAILABLE, or holds every call when `hold`. */
class FakeBackend {
  readonly kind = 'triton-grpc' as const;
  failures = 0;
  hold = false;
  readonly calls: { endpoint: string; ctx: CallContext }[] = [];
  async infer(endpoint: Endpoint, _request: unknown, ctx: CallContext): Promise<ModelInferResponse__Output> {
    this.calls.push({ endpoint: endpoint.address, ctx });
    if (this.hold) {
      return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new SwitchyardError('SWY_ERR_REQUEST_CANCELLED', 'cancelled')), { once: true }));
    }
    if (this.failures > 0) {
      this.failures--;
      throw new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', `endpoint ${endpoint.address} is down`);
    }
    return ANSWER;
  }
  async serverReady() {
    return true;
  }
  close() {}
}

function cluster(overrides: Record<string, unknown> = {}) {
  const config = configSchema.parse({
    clusters: { c: { backend: 'triton-grpc', endpoints: ['a:1', 'b:1'], picker: { type: 'round-robin' }, outlierDetection: { consecutiveFailures: 1 }, ...overrides } },
    models: { m: { split: [{ cluster: 'c' }], retry: { backoffBaseMs: 0, backoffMaxMs: 0 } } },
  });
  const backend = new FakeBackend();
  const telemetry = new RecordingClusterTelemetry();
  const c = new Cluster('c', config.clusters.c as NonNullable<(typeof config.clusters)['c']>, backend as unknown as Backend, silent, telemetry);
  c.start();
  return { cluster: c, backend, telemetry, retry: config.models.m?.retry as RetryConfig };
}

function ctx(telemetry?: RequestTelemetry, signal = new AbortController().signal): CallContext {
  return { requestId: 'r', deadline: Date.now() + 10_000, signal, report: {}, ...(telemetry === undefined ? {} : { telemetry }) };
}

describe('the cluster reports every attempt', () => {
  test('a failed attempt, its retry on the other endpoint, the ejection; each attempt\'s context reaches the backend', async () => {
    const { cluster: c, backend, telemetry, retry } = cluster();
    backend.failures = 1;
    const request = new RecordingRequest();
    await c.infer({}, ctx(request), retry);
    c.close();
    const [first, second] = backend.calls.map((call) => call.endpoint);
    assert.ok(first !== undefined && second !== undefined && first !== second);
    assert.deepEqual(telemetry.events, [`attempt ${first} UNAVAILABLE`, `ejected ${first}`, 'retry', `attempt ${second} ok`]);
    assert.deepEqual(request.events, [`attempt c ${first} 0`, 'attempt-end SWY_ERR_UPSTREAM_UNAVAILABLE', `attempt c ${second} 1`, 'attempt-end ok']);
    assert.deepEqual(backend.calls.map((call) => call.ctx.attempt), request.attempts, 'the backend injects the attempt it was given');
  });

  test('a call without request telemetry (a mirror, a health check) is still counted by the cluster', async () => {
    const { cluster: c, backend, telemetry, retry } = cluster();
    await c.infer({}, ctx(), retry);
    c.close();
    assert.equal(backend.calls[0]?.ctx.attempt, undefined);
    assert.equal(telemetry.events.length, 1);
  });

  test('a retry the budget refuses is counted as denied', async () => {
    const { cluster: c, backend, telemetry } = cluster();
    backend.failures = 1;
    const stingy: RetryConfig = { maxRetries: 2, perTryTimeoutMs: 0, budgetPercent: 0, minRetryConcurrency: 0, backoffBaseMs: 0, backoffMaxMs: 0 };
    await assert.rejects(c.infer({}, ctx(), stingy), { code: 'SWY_ERR_UPSTREAM_UNAVAILABLE' });
    c.close();
    assert.deepEqual(telemetry.events.slice(-1), ['retry-denied']);
    assert.ok(!telemetry.events.includes('retry'));
  });

  test('a request refused by the breaker (every endpoint full, no room to wait) is counted', async () => {
    const { cluster: c, backend, telemetry, retry } = cluster({ circuitBreaker: { maxInFlightPerEndpoint: 1, maxPending: 0 } });
    backend.hold = true;
    const controller = new AbortController();
    const held = [c.infer({}, ctx(undefined, controller.signal), retry), c.infer({}, ctx(undefined, controller.signal), retry)];
    await assert.rejects(c.infer({}, ctx(), retry), { code: 'SWY_ERR_CLUSTER_OVERLOADED' });
    controller.abort();
    await Promise.allSettled(held);
    c.close();
    assert.ok(telemetry.events.includes('overloaded'));
  });
});

describe('routing reports the variant it chose', () => {
  test('infer: model and variant', async () => {
    const config = configSchema.parse({
      clusters: { c: { backend: 'triton-grpc', endpoints: ['a:1'] } },
      models: { m: { split: [{ name: 'stable', cluster: 'c', upstreamModel: 'm_v1' }] } },
    });
    const dispatch = { infer: async () => ({ ...ANSWER }) } as unknown as ClusterDispatch;
    const router = new ModelRouter(new RouteTable(config.models), new Map([['c', dispatch]]));
    const request = new RecordingRequest();
    await router.infer({ model_name: 'm' }, ctx(request));
    assert.deepEqual(request.events, ['routed m stable']);
  });
});

describe('the batcher opens one batch telemetry per merged batch', () => {
  const RETRY: RetryConfig = { maxRetries: 0, perTryTimeoutMs: 0, budgetPercent: 20, minRetryConcurrency: 3, backoffBaseMs: 0, backoffMaxMs: 0 };

  function setup() {
    const clock = new FakeClock();
    const upstream = new EchoUpstream();
    const batches: { model: string; members: readonly RequestTelemetry[]; telemetry: BatchTelemetry; ended: unknown[] }[] = [];
    const telemetry: Pick<Telemetry, 'batch'> = {
      batch(model, members) {
        const record = { model, members, ended: [] as unknown[], telemetry: undefined as unknown as BatchTelemetry };
        record.telemetry = { inject: () => {}, end: (error?: unknown) => record.ended.push(error ?? 'ok') };
        batches.push(record);
        return record.telemetry;
      },
    };
    const batcher = new Batcher({
      model: 'iris',
      upstream,
      target: { name: 'm', version: '' },
      config: { maxBatchSize: 8, maxQueueDelayUs: 10_000, preferredBatchSizes: [], maxQueueSize: 100, oversize: 'alone' },
      retry: RETRY,
      clock,
      telemetry,
    });
    const member = (t: RequestTelemetry): CallContext => ({ requestId: 'r', deadline: clock.now() + 60_000, signal: new AbortController().signal, report: {}, telemetry: t });
    return { clock, upstream, batcher, batches, member };
  }

  test('the members\' telemetry is linked, the batch is the upstream attempt\'s context, ended once with the outcome', async () => {
    const { clock, upstream, batcher, batches, member } = setup();
    const a = new RecordingRequest();
    const b = new RecordingRequest();
    const answers = [batcher.infer(rowsRequest('FP32', 1, 1), member(a)), batcher.infer(rowsRequest('FP32', 2, 2), member(b))];
    await settle();
    clock.advance(10);
    await Promise.all(answers);
    assert.equal(batches.length, 1);
    assert.equal(batches[0]?.model, 'iris');
    assert.deepEqual(batches[0]?.members, [a, b]);
    assert.equal(upstream.calls[0]?.ctx.attempt, batches[0]?.telemetry);
    assert.deepEqual(batches[0]?.ended, ['ok']);

    upstream.failWith = new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'down');
    const failing = [batcher.infer(rowsRequest('FP32', 1, 3), member(new RecordingRequest())), batcher.infer(rowsRequest('FP32', 1, 4), member(new RecordingRequest()))];
    await settle();
    clock.advance(10);
    await Promise.allSettled(failing);
    assert.equal(batches.length, 2);
    assert.deepEqual(batches[1]?.ended, [upstream.failWith]);
  });

  test('a batch of one goes on its member\'s own context: no batch telemetry', async () => {
    const { clock, upstream, batcher, batches, member } = setup();
    const a = new RecordingRequest();
    const answer = batcher.infer(rowsRequest('FP32', 1, 1), member(a));
    await settle();
    clock.advance(10);
    await answer;
    assert.equal(batches.length, 0);
    assert.equal(upstream.calls[0]?.ctx.telemetry, a);
  });
});

describe('the mirror reports each compared pair', () => {
  const ok = <T>(value: T): Promise<Outcome<T>> => Promise.resolve({ status: 'OK', latencyMs: 1, value });
  const failed = (status: Outcome<number>['status']): Promise<Outcome<number>> => Promise.resolve({ status, latencyMs: 1 });

  test('match, mismatch (outputs or status), error (the shadow failed); a pair whose client left is not compared', async () => {
    const results: [string, MirrorComparison][] = [];
    const mirror = new Mirror({ onCompared: (model, result) => results.push([model, result]) });
    const base = { model: 'm', timeoutMs: 1000, ctx: ctx(), sameOutputs: (a: number, b: number) => a === b };
    mirror.send({ ...base, primary: ok(1), send: async () => 1 });
    mirror.send({ ...base, primary: ok(1), send: async () => 2 });
    mirror.send({ ...base, primary: failed('UNAVAILABLE'), send: async () => 1 });
    mirror.send({ ...base, primary: ok(1), send: async () => Promise.reject(new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'down')) });
    mirror.send({ ...base, primary: failed('CANCELLED'), send: async () => 1 });
    mirror.send({ model: 'llm', timeoutMs: 1000, ctx: ctx(), primary: ok(undefined), send: async () => undefined });
    await mirror.idle();
    assert.deepEqual(results.sort(), [
      ['llm', 'match'],
      ['m', 'error'],
      ['m', 'match'],
      ['m', 'mismatch'],
      ['m', 'mismatch'],
    ]);
  });
});

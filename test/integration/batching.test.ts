// Router-side batching against the real dev runtime process (each execution costs 20 ms, so requests
// pile up) over real sockets. The router runs in this process — fleet, ModelRouter, the client HTTP
// and gRPC listeners on port 0, as app.ts wires them — so the test can read ModelRouter.batchingStats().
// Outcomes are read from the runtime's own statistics (ModelStatistics batch_stats: one entry per
// execution size; /dev/stats: calls and failures), never from timings.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import { InFlightLimit } from '../../router/admission/in-flight-limit.js';
import { configSchema } from '../../router/config/schema.js';
import { buildFleet, type Fleet } from '../../router/fleet.js';
import type { ModelStatisticsResponse__Output } from '../../router/generated/inference/ModelStatisticsResponse.js';
import { buildClientHttpListener } from '../../router/listeners/client-http-listener.js';
import { KserveGrpcListener } from '../../router/listeners/kserve-grpc/kserve-grpc-listener.js';
import type { ModelInferResponse__Output } from '../../router/generated/inference/ModelInferResponse.js';
import { ModelRouter } from '../../router/routing/model-router.js';
import { grpcError, inferenceClient, modelInfer, spawnDevRuntime, unary, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';
import { postJson, request, type HttpResult } from '../helpers/http.js';
import { devConfig } from '../helpers/start-router.js';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';

/** Queue delay the batcher may report beyond maxQueueDelayUs: timer lateness on a busy 2-core box. */
const QUEUE_DELAY_SLACK_US = 50_000;
const SINGLE_DELAY_US = 5_000;

const MODELS = {
  // Merges under concurrency; 5 ms window.
  iris: { split: [{ cluster: 'dev' }], batching: { maxBatchSize: 8, maxQueueDelayUs: 5_000 } },
  'iris-plain': { split: [{ cluster: 'dev', upstreamModel: 'iris' }] },
  'iris-single': { split: [{ cluster: 'dev', upstreamModel: 'iris' }], batching: { maxBatchSize: 8, maxQueueDelayUs: SINGLE_DELAY_US } },
  // A long window, so everything sent together waits together.
  'iris-wait': { split: [{ cluster: 'dev', upstreamModel: 'iris' }], batching: { maxBatchSize: 16, maxQueueDelayUs: 300_000 } },
  'iris-four': { split: [{ cluster: 'dev', upstreamModel: 'iris' }], batching: { maxBatchSize: 16, maxQueueDelayUs: 300_000, preferredBatchSizes: [4] } },
  'iris-small-queue': { split: [{ cluster: 'dev', upstreamModel: 'iris' }], batching: { maxBatchSize: 64, maxQueueDelayUs: 300_000, maxQueueSize: 2 } },
};

const IRIS_ROWS = [
  [5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5], [5.9, 3.0, 4.2, 1.5], [4.9, 3.0, 1.4, 0.2],
  [7.0, 3.2, 4.7, 1.4], [6.5, 3.0, 5.8, 2.2], [5.0, 3.6, 1.4, 0.2], [5.7, 2.8, 4.1, 1.3],
];

function irisBody(rows: number[][], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], data: rows }], ...extra };
}

function row(i: number): number[][] {
  return [IRIS_ROWS[i % IRIS_ROWS.length] as number[]];
}

interface RuntimeSnapshot {
  /** Executions by batch size. */
  readonly batches: Map<number, number>;
  readonly calls: number;
  readonly failed: number;
}

describe('router-side batching against the dev runtime', () => {
  let runtime: SpawnedDevRuntime;
  let client: GRPCInferenceServiceClient;
  let fleet: Fleet;
  let router: ModelRouter;
  let http: FastifyInstance;
  let url: string;
  let grpcListener: KserveGrpcListener;
  let routerClient: GRPCInferenceServiceClient;

  before(async () => {
    runtime = await spawnDevRuntime(['--models', 'iris', '--latency-a-ms', '20', '--latency-b-ms', '0.05']);
    client = inferenceClient(runtime.grpcTarget);
    const config = configSchema.parse(devConfig(runtime.grpcTarget, MODELS));
    const logger = pino({ level: 'silent' }) as FastifyBaseLogger;
    fleet = buildFleet(config, logger);
    router = new ModelRouter(fleet.table, fleet.clusters);
    http = buildClientHttpListener({
      router,
      admission: new InFlightLimit(1024),
      logger,
      serverName: 'switchyard',
      serverVersion: 'test',
      maxBodyBytes: 1024 * 1024,
      maxTensorElements: 1024 * 1024,
    });
    await http.listen({ host: '127.0.0.1', port: 0 });
    const address = http.server.address();
    assert.ok(address !== null && typeof address === 'object');
    url = `http://127.0.0.1:${address.port}`;
    const options = { router, admission: new InFlightLimit(1024), logger, serverName: 'switchyard', serverVersion: 'test', maxTensorElements: 1024 * 1024, maxMessageBytes: 1024 * 1024 };
    grpcListener = new KserveGrpcListener(options);
    const bound = await grpcListener.listen('127.0.0.1', 0);
    routerClient = inferenceClient(`127.0.0.1:${bound.port}`);
  });

  after(async () => {
    routerClient?.close();
    await grpcListener?.close(0);
    await http?.close();
    fleet?.close();
    client?.close();
    await runtime?.stop();
  });

  async function snapshot(): Promise<RuntimeSnapshot> {
    const stats = await unary<'ModelStatistics', object, ModelStatisticsResponse__Output>(client, 'ModelStatistics', { name: 'iris', version: '' });
    const iris = stats.model_stats[0];
    assert.ok(iris !== undefined);
    const dev = await (await fetch(`${runtime.httpUrl}/dev/stats`)).json() as { models: { iris: { calls: number; failed: number } } };
    return {
      batches: new Map(iris.batch_stats.map((b) => [Number(b.batch_size), Number(b.compute_infer?.count ?? 0)])),
      calls: dev.models.iris.calls,
      failed: dev.models.iris.failed,
    };
  }

  /** Executions by batch size between two snapshots (sizes with none left out). */
  function executions(before: RuntimeSnapshot, after: RuntimeSnapshot): Record<number, number> {
    const out: Record<number, number> = {};
    for (const [size, n] of after.batches) {
      const d = n - (before.batches.get(size) ?? 0);
      if (d > 0) out[size] = d;
    }
    return out;
  }

  const infer = (model: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<HttpResult> =>
    postJson(`${url}/v2/models/${model}/infer`, body, headers);

  test('under concurrency the runtime executes merged batches, never larger than maxBatchSize; every answer is its own', async () => {
    const start = await snapshot();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => infer('iris', irisBody(row(i), { id: `c-${i}` }))));
    const end = await snapshot();
    answers.forEach((a, i) => {
      assert.equal(a.status, 200, a.text);
      assert.equal(a.body.id, `c-${i}`);
      assert.equal(a.body.model_name, 'iris');
      assert.deepEqual(a.body.outputs.map((o: { shape: number[] }) => o.shape), [[1, 3], [1, 1]]);
    });
    const sizes = executions(start, end);
    const rows = Object.entries(sizes).reduce((sum, [size, n]) => sum + Number(size) * n, 0);
    assert.equal(rows, 40, `every row executed once: ${JSON.stringify(sizes)}`);
    assert.ok(Object.keys(sizes).some((s) => Number(s) > 1), `some execution merged requests: ${JSON.stringify(sizes)}`);
    assert.ok(Object.keys(sizes).every((s) => Number(s) <= 8), `no execution above maxBatchSize 8: ${JSON.stringify(sizes)}`);
    assert.ok(end.calls - start.calls < 40, 'fewer upstream calls than requests');
    const stats = router.batchingStats().iris;
    assert.ok(stats !== undefined && stats.batchedRequests === 40 && Object.keys(stats.batchSizes).every((s) => Number(s) <= 8), JSON.stringify(stats));
  });

  test('batched and unbatched answers are identical', async () => {
    const bodies = [...IRIS_ROWS.map((_, i) => irisBody(row(i), { id: `same-${i}` })), irisBody(IRIS_ROWS.slice(0, 3), { id: 'three-rows' })];
    const before = router.batchingStats().iris;
    const batched = await Promise.all(bodies.map((b) => infer('iris', b)));
    const after = router.batchingStats().iris;
    const plain = await Promise.all(bodies.map((b) => infer('iris-plain', b)));
    batched.forEach((b, i) => {
      assert.equal(b.status, 200, b.text);
      assert.deepEqual({ ...b.body, model_name: 'x' }, { ...plain[i]?.body, model_name: 'x' });
    });
    assert.ok(before !== undefined && after !== undefined);
    const batches = after.batches - before.batches;
    assert.ok(batches < bodies.length, `the batched answers came from merged batches (${batches} batches for ${bodies.length} requests)`);
  });

  test(`one client: requests go as batches of one and wait at most maxQueueDelayUs (+ ${QUEUE_DELAY_SLACK_US} µs slack) in the router`, async () => {
    const start = await snapshot();
    for (let i = 0; i < 8; i++) {
      const answer = await infer('iris-single', irisBody(row(i)));
      assert.equal(answer.status, 200, answer.text);
    }
    const end = await snapshot();
    assert.deepEqual(executions(start, end), { 1: 8 });
    const stats = router.batchingStats()['iris-single'];
    assert.ok(stats !== undefined);
    assert.deepEqual(stats.batchSizes, { '1': 8 });
    assert.ok(stats.queueDelayUs.max <= SINGLE_DELAY_US + QUEUE_DELAY_SLACK_US, `queue delay ${stats.queueDelayUs.max} µs`);
  });

  test('incompatible requests are never merged, and a request the model rejects fails alone', async () => {
    const start = await snapshot();
    const labels = Array.from({ length: 4 }, (_, i) => infer('iris-wait', irisBody(row(i), { outputs: [{ name: 'label' }] })));
    const probabilities = Array.from({ length: 4 }, (_, i) => infer('iris-wait', irisBody(row(i), { outputs: [{ name: 'probabilities' }] })));
    const misshapen = infer('iris-wait', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 5], data: [[1, 2, 3, 4, 5]] }] });
    const [l, p, bad] = await Promise.all([Promise.all(labels), Promise.all(probabilities), misshapen]);
    const end = await snapshot();
    for (const a of l) {
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(a.body.outputs.map((o: { name: string }) => o.name), ['label']);
    }
    for (const a of p) {
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(a.body.outputs.map((o: { name: string }) => o.name), ['probabilities']);
    }
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.body.error, /\[1,5\]|shape/);
    // The rejected request never reached an execution; the two groups ran apart.
    assert.deepEqual(executions(start, end), { 4: 2 });
    assert.equal(end.failed - start.failed, 1);
  });

  test('a backend failure fails exactly that batch\'s members', async () => {
    const start = await snapshot();
    await postJson(`${runtime.httpUrl}/dev/faults`, { errorRate: 1 });
    let failed: HttpResult[];
    try {
      failed = await Promise.all(Array.from({ length: 4 }, (_, i) => infer('iris-four', irisBody(row(i)))));
    } finally {
      await postJson(`${runtime.httpUrl}/dev/faults`, { errorRate: 0 });
    }
    const middle = await snapshot();
    const ok = await Promise.all(Array.from({ length: 4 }, (_, i) => infer('iris-four', irisBody(row(i)))));
    const end = await snapshot();
    for (const a of failed) {
      assert.equal(a.status, 500, a.text);
      assert.match(a.body.error, /injected fault/);
    }
    for (const a of ok) assert.equal(a.status, 200, a.text);
    assert.equal(middle.calls - start.calls, 1, 'the four went as one call');
    assert.equal(middle.failed - start.failed, 1);
    assert.deepEqual(executions(middle, end), { 4: 1 });
    assert.equal(router.batchingStats()['iris-four']?.failedBatches, 1);
  });

  test('a request whose deadline passes in the batch queue fails with 504 and is never sent upstream', async () => {
    const start = await snapshot();
    const expired = await infer('iris-small-queue', irisBody(row(0)), { 'x-switchyard-timeout-ms': '50' });
    assert.equal(expired.status, 504, expired.text);
    assert.match(expired.body.error, /expired in the batch queue/);
    // Past the 300 ms window: the batch it would have joined is long due.
    await new Promise((r) => setTimeout(r, 400));
    const end = await snapshot();
    assert.equal(end.calls, start.calls, 'the runtime never saw it');
    assert.equal(router.batchingStats()['iris-small-queue']?.expired, 1);
  });

  test('beyond maxQueueSize: 429 with Retry-After at once; the queued requests are answered', async () => {
    const queued = [infer('iris-small-queue', irisBody(row(1))), infer('iris-small-queue', irisBody(row(2)))];
    await new Promise((r) => setTimeout(r, 50));
    const refused = await infer('iris-small-queue', irisBody(row(3)));
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.match(refused.body.error, /batch queue of model 'iris-small-queue' is full/);
    for (const a of await Promise.all(queued)) assert.equal(a.status, 200, a.text);
    assert.equal(router.batchingStats()['iris-small-queue']?.rejected, 1);
  });

  test('over gRPC: raw and typed-contents requests share a batch, each answered with its own id; a full queue is RESOURCE_EXHAUSTED', async () => {
    const start = await snapshot();
    const requests = [0, 1, 2, 3].map((i) => {
      const values = row(i)[0] as number[];
      const input = { name: 'input', datatype: 'FP32', shape: [1, 4] };
      return i % 2 === 0
        ? { model_name: 'iris-four', id: `g-${i}`, inputs: [input], raw_input_contents: [Buffer.from(new Float32Array(values).buffer)] }
        : { model_name: 'iris-four', id: `g-${i}`, inputs: [{ ...input, contents: { fp32_contents: values } }] };
    });
    const answers = (await Promise.all(requests.map((r) => modelInfer(routerClient, r)))) as ModelInferResponse__Output[];
    const end = await snapshot();
    assert.deepEqual(executions(start, end), { 4: 1 });
    const direct = (await Promise.all(requests.map((r) => modelInfer(client, { ...r, model_name: 'iris' })))) as ModelInferResponse__Output[];
    answers.forEach((a, i) => {
      assert.equal(a.id, `g-${i}`);
      assert.equal(a.model_name, 'iris-four');
      assert.deepEqual(a.outputs.map((o) => o.shape), [['1', '3'], ['1', '1']]);
      a.raw_output_contents.forEach((raw, k) => assert.ok(raw.equals(direct[i]?.raw_output_contents[k] as Buffer), `answer ${i} output ${k} as the model's own`));
    });

    const one = { model_name: 'iris-small-queue', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [Buffer.from(new Float32Array(row(0)[0] as number[]).buffer)] };
    const queued = [modelInfer(routerClient, one), modelInfer(routerClient, one)];
    await new Promise((r) => setTimeout(r, 50));
    const refused = await grpcError(modelInfer(routerClient, one));
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.deepEqual(refused.metadata.get('retry-after'), ['1']);
    await Promise.all(queued);
  });

  test('the unbatched model is untouched by batching', async () => {
    const a = await request(`${url}/v2/models/iris-plain/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(irisBody(row(0))) });
    assert.equal(a.status, 200);
    assert.equal(router.batchingStats()['iris-plain'], undefined);
  });
});

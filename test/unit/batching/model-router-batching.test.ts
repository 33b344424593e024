// ModelRouter with batched routes: requests go through one batcher per cluster object and upstream
// model, answers carry the client's model name, unbatched routes and mirrors are untouched, a hot
// reload gets fresh batchers, and batchingStats() counts per model across reloads.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configSchema } from '../../../router/config/schema.js';
import type { CallContext } from '../../../router/core/call-context.js';
import { ModelRouter, type ClusterDispatch } from '../../../router/routing/model-router.js';
import { RouteTable } from '../../../router/routing/route-table.js';
import { EchoUpstream } from './echo-upstream.js';
import { rawRows, rowsRequest } from './tensor-fixtures.js';

const CLUSTER = { backend: 'triton-grpc', endpoints: ['127.0.0.1:1'] };
const MODELS = {
  iris: { split: [{ cluster: 'gpu', upstreamModel: 'iris_trt' }], batching: { maxBatchSize: 4, maxQueueDelayUs: 1_000 } },
  plain: { split: [{ cluster: 'gpu', upstreamModel: 'iris_trt' }] },
  mirrored: {
    split: [{ cluster: 'gpu', upstreamModel: 'iris_trt' }],
    batching: { maxBatchSize: 2, maxQueueDelayUs: 1_000 },
    mirror: { to: { cluster: 'shadow', upstreamModel: 'iris_shadow' }, percent: 100 },
  },
};

function build() {
  const config = configSchema.parse({ clusters: { gpu: CLUSTER, shadow: CLUSTER }, models: MODELS });
  const gpu = new EchoUpstream();
  const shadow = new EchoUpstream();
  const clusters = new Map([['gpu', gpu as unknown as ClusterDispatch], ['shadow', shadow as unknown as ClusterDispatch]]);
  return { table: new RouteTable(config.models), gpu, shadow, clusters };
}

function ctx(): CallContext & { report: { variant?: string } } {
  return { requestId: 'r', deadline: Date.now() + 10_000, signal: new AbortController().signal, report: {} };
}

const request = (model: string, seed: number) => ({ ...rowsRequest('FP32', 1, seed), model_name: model });

describe('ModelRouter batching', () => {
  test('a batched route merges concurrent requests; answers name the client model and the variant', async () => {
    const { table, gpu, clusters } = build();
    const router = new ModelRouter(table, clusters);
    const contexts = [1, 2, 3, 4].map(() => ctx());
    const answers = await Promise.all([1, 2, 3, 4].map((i) => router.infer(request('iris', i), contexts[i - 1] as CallContext)));
    assert.equal(gpu.calls.length, 1);
    assert.equal(gpu.calls[0]?.request.model_name, 'iris_trt');
    assert.deepEqual(gpu.calls[0]?.request.inputs?.[0]?.shape, [4, 3]);
    answers.forEach((a, i) => {
      assert.equal(a.model_name, 'iris');
      assert.equal(a.id, `req-${i + 1}`);
      assert.ok(a.raw_output_contents[0]?.equals(rawRows('FP32', 1, i + 1)));
      assert.equal(contexts[i]?.report.variant, 'default');
    });
  });

  test('a route without batching sends each request on its own', async () => {
    const { table, gpu, clusters } = build();
    const router = new ModelRouter(table, clusters);
    await Promise.all([1, 2, 3].map((i) => router.infer(request('plain', i), ctx())));
    assert.equal(gpu.calls.length, 3);
    assert.equal(gpu.configCalls, 0);
  });

  test('mirrored copies of a batched route go unbatched to the shadow, as before', async () => {
    const { table, gpu, shadow, clusters } = build();
    const router = new ModelRouter(table, clusters, { random: () => 0 });
    await Promise.all([1, 2].map((i) => router.infer(request('mirrored', i), ctx())));
    assert.equal(gpu.calls.length, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(shadow.calls.map((c) => [c.request.model_name, c.request.id]), [['iris_shadow', 'req-1'], ['iris_shadow', 'req-2']]);
  });

  test('a hot reload gets fresh batchers; batchingStats counts per batched model across reloads', async () => {
    const first = build();
    const router = new ModelRouter(first.table, first.clusters);
    assert.deepEqual(Object.keys(router.batchingStats()), ['iris', 'mirrored']);
    await Promise.all([1, 2, 3, 4].map((i) => router.infer(request('iris', i), ctx())));
    assert.equal(first.gpu.configCalls, 1);

    const second = build();
    router.replace(second.table, second.clusters);
    await Promise.all([1, 2].map((i) => router.infer(request('iris', i), ctx())));
    assert.equal(second.gpu.configCalls, 1, 'the new cluster object has its own batcher');
    assert.deepEqual(second.gpu.calls.map((c) => c.request.inputs?.[0]?.shape), [[2, 3]]);

    const stats = router.batchingStats().iris!;
    assert.equal(stats.batches, 2);
    assert.equal(stats.batchedRequests, 6);
    assert.deepEqual(stats.batchSizes, { '2': 1, '4': 1 });
    assert.equal(stats.queueDepth, 0);
    assert.equal(stats.maxQueueDepth, 4);
  });
});

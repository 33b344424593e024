// The dev runtime's instance scheduler as seen from outside: one execution per instance at a time
// (so queueing is real and measurable), --instances in parallel, queued calls leaving the queue
// when cancelled, --dynamic-batching merging queued requests, and tiny-llm's sequence limit.
// Assertions use ModelStatistics/dev counters, or wall-clock lower bounds that cannot flake.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { jsonToRaw, joinBytesElements } from '../../router/adapters/kserve-tensor/index.js';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelStatistics__Output } from '../../router/generated/inference/ModelStatistics.js';
import type { ModelStatisticsResponse__Output } from '../../router/generated/inference/ModelStatisticsResponse.js';
import { getJson, grpcError, modelInfer, unary, waitFor, withDevRuntime, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';

const irisCall = (rows = 1): ModelInferRequest => ({
  model_name: 'iris',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 4] }],
  raw_input_contents: [jsonToRaw('input', 'FP32', [rows, 4], new Array(rows * 4).fill(5))],
});


async function modelStats(client: GRPCInferenceServiceClient, name: string): Promise<ModelStatistics__Output> {
  const res = await unary<'ModelStatistics', object, ModelStatisticsResponse__Output>(client, 'ModelStatistics', { name });
  return res.model_stats[0] as ModelStatistics__Output;
}

async function devStats(rt: SpawnedDevRuntime, model: string): Promise<Record<string, number>> {
  return (await getJson<{ models: Record<string, Record<string, number>> }>(`${rt.httpUrl}/dev/stats`)).body.models[model] as Record<string, number>;
}

const ms = (ns: string | undefined): number => Number(ns ?? 0) / 1e6;

test('one instance serialises calls: 4 concurrent 50 ms calls queue behind each other', async () => {
  await withDevRuntime(['--models', 'iris', '--instances', '1', '--latency-a-ms', '50', '--latency-b-ms', '0'], async (_rt, client) => {
    const started = Date.now();
    await Promise.all([1, 2, 3, 4].map(() => modelInfer(client, irisCall())));
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 180, `4 serial executions of 50 ms cannot finish in ${elapsed} ms`);
    const s = await modelStats(client, 'iris');
    assert.equal(s.execution_count, '4');
    assert.equal(s.inference_stats?.queue?.count, '4');
    // Waits are about 0, 50, 100 and 150 ms.
    assert.ok(ms(s.inference_stats?.queue?.ns) >= 250, `total queue time ${ms(s.inference_stats?.queue?.ns)} ms`);
    assert.ok(ms(s.inference_stats?.compute_infer?.ns) >= 180);
  });
});

test('four instances run the same calls in parallel with no queueing', async () => {
  await withDevRuntime(['--models', 'iris', '--instances', '4', '--latency-a-ms', '50', '--latency-b-ms', '0'], async (_rt, client) => {
    await Promise.all([1, 2, 3, 4].map(() => modelInfer(client, irisCall())));
    const s = await modelStats(client, 'iris');
    assert.equal(s.execution_count, '4');
    // Each call found a free instance on arrival; queue time is dispatch bookkeeping only.
    assert.ok(ms(s.inference_stats?.queue?.ns) < 40, `total queue time ${ms(s.inference_stats?.queue?.ns)} ms`);
    assert.ok(ms(s.inference_stats?.compute_infer?.ns) >= 180, 'each call still computed for 50 ms');
  });
});

test('a call whose deadline passes while queued leaves the queue and never executes', async () => {
  await withDevRuntime(['--models', 'iris', '--instances', '1', '--latency-a-ms', '400', '--latency-b-ms', '0'], async (rt, client) => {
    const first = modelInfer(client, irisCall());
    await waitFor(async () => (await devStats(rt, 'iris'))['inFlight'] === 1, 3000, 'first call in flight');
    const err = await grpcError(modelInfer(client, irisCall(), { deadline: Date.now() + 100 }));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    await waitFor(async () => (await devStats(rt, 'iris'))['cancelled'] === 1, 3000, 'cancel counted');
    const during = await devStats(rt, 'iris');
    assert.equal(during['pending'], 0, 'removed from the queue');
    assert.equal(during['inFlight'], 1, 'only the executing call is left');
    await first;
    const s = await modelStats(client, 'iris');
    assert.equal(s.execution_count, '1', 'the cancelled call never ran');
    assert.equal(s.inference_stats?.fail?.count, '1');
  });
});

test('--dynamic-batching merges queued requests into one execution', async () => {
  await withDevRuntime(['--models', 'iris', '--instances', '1', '--dynamic-batching', '--latency-a-ms', '200'], async (_rt, client) => {
    const first = modelInfer(client, irisCall(2));
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all([first, ...[1, 2, 3, 4].map(() => modelInfer(client, irisCall(3)))]);
    const s = await modelStats(client, 'iris');
    assert.equal(s.inference_count, '14');
    assert.equal(s.execution_count, '2');
    assert.deepEqual(s.batch_stats.map((b) => [b.batch_size, b.compute_infer?.count]), [['2', '1'], ['12', '1']]);
  });
});

test('tiny-llm runs at most --llm-max-sequences sequences; the rest wait in the queue', async () => {
  await withDevRuntime(['--models', 'tiny-llm', '--llm-max-sequences', '1', '--token-latency-ms', '30'], async (rt, client) => {
    const generate = (id: string) => new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      const stream = client.ModelStreamInfer();
      stream.on('data', () => seen.push(id));
      stream.on('error', reject);
      stream.on('end', () => resolve(seen));
      stream.write({
        model_name: 'tiny-llm', id,
        inputs: [
          { name: 'text_input', datatype: 'BYTES', shape: [1] },
          { name: 'stream', datatype: 'BOOL', shape: [1] },
          { name: 'sampling_parameters', datatype: 'BYTES', shape: [1] },
        ],
        raw_input_contents: [
          joinBytesElements([Buffer.from('hello')]),
          jsonToRaw('stream', 'BOOL', [1], [true]),
          joinBytesElements([Buffer.from('{"max_tokens": 10}')]),
        ],
      });
      stream.end();
    });
    const first = generate('first');
    await waitFor(async () => (await devStats(rt, 'tiny-llm'))['inFlight'] === 1, 3000, 'first sequence running');
    const second = generate('second');
    await waitFor(async () => (await devStats(rt, 'tiny-llm'))['pending'] === 1, 3000, 'second sequence queued');
    assert.match(await (await fetch(`${rt.httpUrl}/metrics`)).text(), /^nv_inference_pending_request_count\{model="tiny-llm",version="1"\} 1$/m);
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.length, 10);
    assert.equal(b.length, 10);
    const s = await modelStats(client, 'tiny-llm');
    assert.ok(ms(s.inference_stats?.queue?.ns) >= 50, `the second waited for the first (${ms(s.inference_stats?.queue?.ns)} ms)`);
  });
});

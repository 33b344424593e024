// The dev runtime's server/model metadata, config, statistics, repository index, readiness,
// grpc.health.v1, and its HTTP port (health, /metrics, /dev/faults, /dev/stats).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { jsonToRaw } from '../../router/adapters/kserve-tensor/index.js';
import type { HealthClient } from '../../router/generated/grpc/health/v1/Health.js';
import type { HealthCheckResponse__Output } from '../../router/generated/grpc/health/v1/HealthCheckResponse.js';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import type { ModelConfigResponse__Output } from '../../router/generated/inference/ModelConfigResponse.js';
import type { ModelMetadataResponse__Output } from '../../router/generated/inference/ModelMetadataResponse.js';
import type { ModelStatisticsResponse__Output } from '../../router/generated/inference/ModelStatisticsResponse.js';
import type { RepositoryIndexResponse__Output } from '../../router/generated/inference/RepositoryIndexResponse.js';
import type { ServerMetadataResponse__Output } from '../../router/generated/inference/ServerMetadataResponse.js';
import {
  getJson, grpcError, healthClient, inferenceClient, postJson, spawnDevRuntime, unary, waitFor, type SpawnedDevRuntime,
} from '../helpers/dev-runtime.js';

let runtime: SpawnedDevRuntime;
let client: GRPCInferenceServiceClient;
let health: HealthClient;

before(async () => {
  runtime = await spawnDevRuntime(['--instances', '2', '--latency-a-ms', '1']);
  client = inferenceClient(runtime.grpcTarget);
  health = healthClient(runtime.grpcTarget);
});

after(async () => {
  client?.close();
  health?.close();
  await runtime?.stop();
});

const call = <Res>(method: keyof GRPCInferenceServiceClient & string, req: object) => unary<typeof method, object, Res>(client, method, req);

function check(service: string): Promise<HealthCheckResponse__Output> {
  return new Promise((resolve, reject) => {
    health.Check({ service }, { deadline: Date.now() + 2000 }, (err, res) => (err ? reject(err) : resolve(res as HealthCheckResponse__Output)));
  });
}

test('ServerLive, ServerReady and ServerMetadata', async () => {
  assert.deepEqual(await call('ServerLive', {}), { live: true });
  assert.deepEqual(await call('ServerReady', {}), { ready: true });
  const meta = await call<ServerMetadataResponse__Output>('ServerMetadata', {});
  assert.equal(meta.name, 'switchyard-dev-runtime');
  assert.match(meta.version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(meta.extensions, ['model_configuration', 'statistics', 'parameters']);
});

test('ModelReady: version "" or "1" ready; unknown model or version not ready', async () => {
  for (const [name, version, ready] of [['iris', '', true], ['iris', '1', true], ['tiny-llm', '', true], ['iris', '2', false], ['nope', '', false]] as const) {
    assert.deepEqual(await call('ModelReady', { name, version }), { ready }, `${name}@${version}`);
  }
});

test('ModelMetadata reports -1 for the batch dim of a batching model and none for tiny-llm', async () => {
  const iris = await call<ModelMetadataResponse__Output>('ModelMetadata', { name: 'iris' });
  assert.deepEqual(iris, {
    name: 'iris',
    versions: ['1'],
    platform: 'python',
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['-1', '4'] }],
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: ['-1', '3'] }, { name: 'label', datatype: 'BYTES', shape: ['-1', '1'] }],
  });
  const llm = await call<ModelMetadataResponse__Output>('ModelMetadata', { name: 'tiny-llm', version: '1' });
  assert.equal(llm.platform, 'vllm');
  assert.deepEqual(llm.inputs.find((i) => i.name === 'text_input'), { name: 'text_input', datatype: 'BYTES', shape: ['1'] });
  assert.deepEqual(llm.outputs.map((o) => [o.name, o.datatype, o.shape]), [
    ['text_output', 'BYTES', ['-1']], ['finish_reason', 'BYTES', ['-1']], ['num_input_tokens', 'UINT32', ['1']], ['num_output_tokens', 'UINT32', ['-1']],
  ]);
  const err = await grpcError(call('ModelMetadata', { name: 'nope' }));
  assert.equal(err.code, grpc.status.NOT_FOUND);
  assert.equal(err.details, "Request for unknown model: 'nope' is not found");
});

test('ModelConfig: dims without the batch dim, TYPE_* names, instance group, batching and decoupled policy', async () => {
  const { config: iris } = await call<ModelConfigResponse__Output>('ModelConfig', { name: 'iris' });
  assert.ok(iris);
  assert.equal(iris.name, 'iris');
  assert.equal(iris.backend, 'python');
  assert.equal(iris.max_batch_size, 64);
  assert.deepEqual(iris.input.map((i) => [i.name, i.data_type, i.dims]), [['input', 'TYPE_FP32', ['4']]]);
  assert.deepEqual(iris.output.map((o) => [o.name, o.data_type, o.dims]), [['probabilities', 'TYPE_FP32', ['3']], ['label', 'TYPE_STRING', ['1']]]);
  assert.equal(iris.instance_group[0]?.count, 2);
  assert.equal(iris.scheduling_choice, 'dynamic_batching');
  assert.equal(iris.model_transaction_policy?.decoupled, false);

  const { config: llm } = await call<ModelConfigResponse__Output>('ModelConfig', { name: 'tiny-llm' });
  assert.ok(llm);
  assert.equal(llm.backend, 'vllm');
  assert.equal(llm.max_batch_size, 0);
  assert.equal(llm.model_transaction_policy?.decoupled, true);
  assert.equal(llm.input.find((i) => i.name === 'text_input')?.optional, false);
  assert.equal(llm.input.find((i) => i.name === 'stream')?.optional, true);
  assert.deepEqual(llm.input.find((i) => i.name === 'sampling_parameters')?.data_type, 'TYPE_STRING');
  assert.equal(llm.dynamic_batching ?? null, null);

  const err = await grpcError(call('ModelConfig', { name: 'iris', version: '7' }));
  assert.equal(err.code, grpc.status.NOT_FOUND);
});

test('ModelStatistics counts inferences, executions, batch sizes; empty name = all models', async () => {
  const rows = [[5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5], [5.7, 2.8, 4.1, 1.3]];
  for (const n of [1, 3]) {
    await call('ModelInfer', {
      model_name: 'iris',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [n, 4] }],
      raw_input_contents: [jsonToRaw('input', 'FP32', [n, 4], rows.slice(0, n).flat())],
    });
  }
  const one = await call<ModelStatisticsResponse__Output>('ModelStatistics', { name: 'iris' });
  const s = one.model_stats[0];
  assert.ok(s);
  assert.equal(s.name, 'iris');
  assert.equal(s.version, '1');
  assert.equal(s.inference_count, '4');
  assert.equal(s.execution_count, '2');
  assert.equal(s.inference_stats?.success?.count, '2');
  assert.equal(s.inference_stats?.queue?.count, '2');
  assert.equal(s.inference_stats?.compute_infer?.count, '2');
  assert.ok(Number(s.inference_stats?.compute_infer?.ns) > 0);
  assert.ok(Number(s.last_inference) > Date.now() - 60_000);
  assert.deepEqual(s.batch_stats.map((b) => [b.batch_size, b.compute_infer?.count]), [['1', '1'], ['3', '1']]);

  const all = await call<ModelStatisticsResponse__Output>('ModelStatistics', { name: '' });
  assert.deepEqual(all.model_stats.map((m) => m.name).sort(), ['iris', 'tiny-llm', 'tiny-llm-trt']);
  assert.equal((await grpcError(call('ModelStatistics', { name: 'nope' }))).code, grpc.status.NOT_FOUND);
});

test('RepositoryIndex lists every model READY', async () => {
  const index = await call<RepositoryIndexResponse__Output>('RepositoryIndex', { repository_name: '', ready: false });
  assert.deepEqual(index.models.map((m) => [m.name, m.version, m.state]).sort(), [['iris', '1', 'READY'], ['tiny-llm', '1', 'READY'], ['tiny-llm-trt', '1', 'READY']]);
});

test('grpc.health.v1 Check: SERVING for "" and the inference service, NOT_FOUND for others', async () => {
  assert.deepEqual(await check(''), { status: 'SERVING' });
  assert.deepEqual(await check('inference.GRPCInferenceService'), { status: 'SERVING' });
  const err = await grpcError(check('nope.Service'));
  assert.equal(err.code, grpc.status.NOT_FOUND);
});

test('HTTP health, /metrics and /dev/stats', async () => {
  const live = await fetch(`${runtime.httpUrl}/v2/health/live`);
  assert.equal(live.status, 200);
  assert.equal(await live.text(), '');
  assert.equal((await fetch(`${runtime.httpUrl}/v2/health/ready`)).status, 200);

  const metrics = await (await fetch(`${runtime.httpUrl}/metrics`)).text();
  assert.match(metrics, /^# TYPE nv_inference_request_success counter$/m);
  assert.match(metrics, /^nv_inference_count\{model="iris",version="1"\} 4$/m);
  assert.match(metrics, /^nv_inference_exec_count\{model="iris",version="1"\} 2$/m);
  assert.match(metrics, /^nv_inference_request_failure\{model="iris",reason="BACKEND",version="1"\} 0$/m);
  assert.match(metrics, /^nv_inference_pending_request_count\{model="tiny-llm",version="1"\} 0$/m);
  for (const name of ['nv_inference_request_duration_us', 'nv_inference_queue_duration_us', 'nv_inference_compute_infer_duration_us']) {
    assert.match(metrics, new RegExp(`^${name}\\{model="iris",version="1"\\} \\d+$`, 'm'));
  }

  const stats = await getJson<{ models: Record<string, Record<string, number>> }>(`${runtime.httpUrl}/dev/stats`);
  assert.equal(stats.status, 200);
  assert.equal(stats.body.models['iris']?.['calls'], 2);
  assert.equal(stats.body.models['iris']?.['batches'], 2);
  assert.deepEqual(Object.keys(stats.body.models['tiny-llm'] ?? {}).sort(), ['batches', 'calls', 'cancelled', 'failed', 'inFlight', 'pending', 'succeeded', 'tokens']);
  assert.equal((await getJson(`${runtime.httpUrl}/nope`)).status, 404);
});

test('/dev/faults validates and "ready": false makes ServerReady, HTTP and health not ready (Watch sees it)', async () => {
  for (const bad of [{ errorRate: 2 }, { hangRate: -0.1 }, { crashAfter: 1.5 }, { ready: 'no' }, { latencyAMs: 'x' }, { bogus: 1 }, [1]]) {
    const res = await postJson<{ error: string }>(`${runtime.httpUrl}/dev/faults`, bad);
    assert.equal(res.status, 400, JSON.stringify(bad));
    assert.equal(typeof res.body.error, 'string');
  }
  const unchanged = await getJson<Record<string, unknown>>(`${runtime.httpUrl}/dev/faults`);
  assert.deepEqual(unchanged.body, {
    errorRate: 0, hangRate: 0, crashAfter: 0, ready: true, latencyAMs: 1, latencyBMs: 0.05, tokenLatencyMs: 20, prefillMsPerToken: 0.05,
  });

  const seen: string[] = [];
  const watch = health.Watch({ service: '' });
  watch.on('data', (res: HealthCheckResponse__Output) => seen.push(res.status));
  watch.on('error', () => {});
  const unknownSeen: string[] = [];
  const unknownWatch = health.Watch({ service: 'nope.Service' });
  unknownWatch.on('data', (res: HealthCheckResponse__Output) => unknownSeen.push(res.status));
  unknownWatch.on('error', () => {});
  await waitFor(() => seen.length === 1 && unknownSeen.length === 1, 3000, 'initial Watch statuses');
  assert.deepEqual(seen, ['SERVING']);
  assert.deepEqual(unknownSeen, ['SERVICE_UNKNOWN']);

  try {
    const off = await postJson<{ ready: boolean }>(`${runtime.httpUrl}/dev/faults`, { ready: false });
    assert.equal(off.body.ready, false);
    assert.deepEqual(await call('ServerReady', {}), { ready: false });
    assert.deepEqual(await call('ModelReady', { name: 'iris' }), { ready: false });
    assert.equal((await fetch(`${runtime.httpUrl}/v2/health/ready`)).status, 400);
    assert.equal((await fetch(`${runtime.httpUrl}/v2/health/live`)).status, 200);
    assert.deepEqual(await check('inference.GRPCInferenceService'), { status: 'NOT_SERVING' });
    await waitFor(() => seen.length === 2, 3000, 'Watch NOT_SERVING');
    assert.deepEqual(seen, ['SERVING', 'NOT_SERVING']);
  } finally {
    await postJson(`${runtime.httpUrl}/dev/faults`, { ready: true });
  }
  await waitFor(() => seen.length === 3, 3000, 'Watch SERVING again');
  assert.deepEqual(seen, ['SERVING', 'NOT_SERVING', 'SERVING']);
  assert.deepEqual(unknownSeen, ['SERVICE_UNKNOWN'], 'the unknown service stream stays open and quiet');
  watch.cancel();
  unknownWatch.cancel();
  assert.deepEqual(await call('ServerReady', {}), { ready: true });
});

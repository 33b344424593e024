// KServe V2 gRPC through the real router process to the real dev runtime, over loopback: the
// client gRPC listener with grpc-js clients built from protos/, and Triton's own Python client.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { jsonToRaw, splitBytesElements } from '../../router/adapters/kserve-tensor/index.js';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import type { HealthCheckResponse__Output } from '../../router/generated/grpc/health/v1/HealthCheckResponse.js';
import type { HealthClient } from '../../router/generated/grpc/health/v1/Health.js';
import type { ModelConfigResponse__Output } from '../../router/generated/inference/ModelConfigResponse.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../../router/generated/inference/ModelInferResponse.js';
import type { ModelMetadataResponse__Output } from '../../router/generated/inference/ModelMetadataResponse.js';
import type { ModelStatisticsResponse__Output } from '../../router/generated/inference/ModelStatisticsResponse.js';
import type { ModelStreamInferResponse__Output } from '../../router/generated/inference/ModelStreamInferResponse.js';
import type { ServerMetadataResponse__Output } from '../../router/generated/inference/ServerMetadataResponse.js';
import {
  getJson, grpcError, healthClient, inferenceClient, spawnDevRuntime, unary, waitFor, type SpawnedDevRuntime,
} from '../helpers/dev-runtime.js';
import { request } from '../helpers/http.js';
import { concat, isFinal, llmRequest, runStream } from '../helpers/llm-stream.js';
import { closedPort } from '../helpers/closed-port.js';
import { devConfig, startRouter, type RunningRouter } from '../helpers/start-router.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/router/tritonclient_grpc_check.py', import.meta.url));

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.3, 3.3, 6.0, 2.5],
  [5.9, 3.0, 4.2, 1.5],
];

interface DevStats {
  models: Record<string, { inFlight: number; cancelled: number }>;
}

const irisRaw = (rows: number[][] = ROWS, id = ''): ModelInferRequest => ({
  model_name: 'iris',
  id,
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4] }],
  raw_input_contents: [jsonToRaw('input', 'FP32', [rows.length, 4], rows.flat())],
});

const irisTyped = (rows: number[][] = ROWS, model = 'iris'): ModelInferRequest => ({
  model_name: model,
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], contents: { fp32_contents: rows.flat() } }],
});

function probabilities(res: ModelInferResponse__Output): number[] {
  const at = res.outputs.findIndex((o) => o.name === 'probabilities');
  const raw = res.raw_output_contents[at] as Buffer;
  return [...new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length))];
}

function labels(res: ModelInferResponse__Output): string[] {
  const at = res.outputs.findIndex((o) => o.name === 'label');
  return splitBytesElements('label', res.raw_output_contents[at] as Buffer).map((b) => b.toString('utf8'));
}

/** ModelInfer with the initial metadata the router sent. */
function inferWithMetadata(client: GRPCInferenceServiceClient, req: ModelInferRequest, metadata = new grpc.Metadata()) {
  return new Promise<{ response: ModelInferResponse__Output; initial: grpc.Metadata }>((resolve, reject) => {
    let initial = new grpc.Metadata();
    const call = client.ModelInfer(req, metadata, (err, response) => (err ? reject(err) : resolve({ response: response!, initial })));
    call.on('metadata', (md: grpc.Metadata) => (initial = md));
  });
}

/** A stream with its trailing metadata (the status's). */
function streamWithTrailers(client: GRPCInferenceServiceClient, requests: ModelInferRequest[], metadata = new grpc.Metadata()) {
  return new Promise<{ messages: ModelStreamInferResponse__Output[]; status: grpc.StatusObject; initial: grpc.Metadata }>((resolve) => {
    const messages: ModelStreamInferResponse__Output[] = [];
    let initial = new grpc.Metadata();
    const call = client.ModelStreamInfer(metadata, { deadline: Date.now() + 15_000 });
    call.on('metadata', (md: grpc.Metadata) => (initial = md));
    call.on('data', (m: ModelStreamInferResponse__Output) => messages.push(m));
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => resolve({ messages, status, initial }));
    for (const r of requests) call.write(r);
    call.end();
  });
}

function healthCheck(client: HealthClient, service: string): Promise<HealthCheckResponse__Output> {
  return new Promise((resolve, reject) => client.Check({ service }, (err, res) => (err ? reject(err) : resolve(res!))));
}

const devStats = async (runtime: SpawnedDevRuntime) => (await getJson<DevStats>(`${runtime.httpUrl}/dev/stats`)).body.models;

describe('KServe V2 gRPC through the router', () => {
  let runtime: SpawnedDevRuntime;
  let router: RunningRouter;
  let client: GRPCInferenceServiceClient;
  let direct: GRPCInferenceServiceClient;

  before(async () => {
    runtime = await spawnDevRuntime(['--token-latency-ms', '5']);
    const down = `127.0.0.1:${await closedPort()}`;
    router = await startRouter(
      devConfig(
        runtime.grpcTarget,
        {
          iris: { split: [{ cluster: 'dev' }] },
          'iris-alias': {
            split: [
              { name: 'stable', cluster: 'dev', upstreamModel: 'iris', weight: 99 },
              { name: 'canary', cluster: 'dev', upstreamModel: 'iris', weight: 1 },
            ],
            match: [{ headers: { 'x-canary': '1' }, variant: 'canary' }],
          },
          'tiny-llm': { split: [{ cluster: 'dev' }] },
          // Round robin over a dead and a live endpoint: consecutive requests try both.
          'tiny-llm-half': { split: [{ cluster: 'half', upstreamModel: 'tiny-llm' }] },
        },
        {
          limits: { maxTensorElements: 1000 },
          clusters: {
            dev: { backend: 'triton-grpc', endpoints: [runtime.grpcTarget] },
            // One health probe only (below unhealthyThreshold), so the dead endpoint stays a candidate.
            half: { backend: 'triton-grpc', endpoints: [down, runtime.grpcTarget], picker: { type: 'round-robin' }, healthCheck: { intervalMs: 3_600_000 } },
          },
        },
      ),
    );
    client = inferenceClient(router.grpcTarget);
    direct = inferenceClient(runtime.grpcTarget);
  });

  after(async () => {
    client?.close();
    direct?.close();
    await router?.stop();
    await runtime?.stop();
  });

  test('ModelInfer, raw and typed contents: exactly the probabilities of the runtime called directly', async () => {
    const expected = await unary<'ModelInfer', ModelInferRequest, ModelInferResponse__Output>(direct, 'ModelInfer', irisRaw());
    const md = new grpc.Metadata();
    md.set('x-request-id', 'grpc-req-1');
    const raw = await inferWithMetadata(client, irisRaw(ROWS, 'client-id'), md);
    assert.equal(raw.response.model_name, 'iris');
    assert.equal(raw.response.model_version, '1');
    assert.equal(raw.response.id, 'client-id');
    assert.deepEqual(probabilities(raw.response), probabilities(expected));
    assert.deepEqual(labels(raw.response), ['setosa', 'virginica', 'versicolor']);
    assert.deepEqual(raw.initial.get('x-request-id'), ['grpc-req-1']);
    assert.deepEqual(raw.initial.get('x-switchyard-variant'), ['default']);

    const typed = await inferWithMetadata(client, irisTyped());
    assert.deepEqual(probabilities(typed.response), probabilities(expected));
    assert.match(String(typed.initial.get('x-request-id')[0]), /^[0-9a-f-]{36}$/, 'a request id is generated when none is sent');
  });

  test('routing facts from metadata: a header rule picks the variant; the alias answers with its own name', async () => {
    const md = new grpc.Metadata();
    md.set('x-canary', '1');
    const canary = await inferWithMetadata(client, irisTyped([ROWS[0]!], 'iris-alias'), md);
    assert.equal(canary.response.model_name, 'iris-alias');
    assert.deepEqual(canary.initial.get('x-switchyard-variant'), ['canary']);
    const timeout = new grpc.Metadata();
    timeout.set('x-switchyard-timeout-ms', 'soon');
    const err = await grpcError(inferWithMetadata(client, irisTyped(), timeout));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /x-switchyard-timeout-ms/);
  });

  test('server and model metadata, readiness, config and statistics answer from the fleet', async () => {
    assert.deepEqual(await unary(client, 'ServerLive', {}), { live: true });
    assert.deepEqual(await unary(client, 'ServerReady', {}), { ready: true });
    const server = await unary<'ServerMetadata', object, ServerMetadataResponse__Output>(client, 'ServerMetadata', {});
    assert.equal(server.name, 'switchyard');
    assert.ok(server.extensions.includes('model_configuration'));
    assert.deepEqual(await unary(client, 'ModelReady', { name: 'iris', version: '1' }), { ready: true });

    const meta = await unary<'ModelMetadata', object, ModelMetadataResponse__Output>(client, 'ModelMetadata', { name: 'iris-alias' });
    assert.equal(meta.name, 'iris-alias');
    assert.deepEqual(meta.versions, ['1']);
    assert.deepEqual(meta.inputs, [{ name: 'input', datatype: 'FP32', shape: ['-1', '4'] }]);

    const config = await unary<'ModelConfig', object, ModelConfigResponse__Output>(client, 'ModelConfig', { name: 'iris' });
    assert.equal(config.config?.name, 'iris');
    assert.equal(config.config?.max_batch_size, 64);
    const llm = await unary<'ModelConfig', object, ModelConfigResponse__Output>(client, 'ModelConfig', { name: 'tiny-llm' });
    assert.equal(llm.config?.model_transaction_policy?.decoupled, true);

    const stats = await unary<'ModelStatistics', object, ModelStatisticsResponse__Output>(client, 'ModelStatistics', { name: 'iris-alias' });
    assert.equal(stats.model_stats[0]?.name, 'iris-alias');
    assert.ok(Number(stats.model_stats[0]?.inference_count) >= 1);
    const all = await unary<'ModelStatistics', object, ModelStatisticsResponse__Output>(client, 'ModelStatistics', { name: '' });
    assert.deepEqual(all.model_stats.map((s) => s.name).sort(), ['iris', 'iris-alias', 'tiny-llm', 'tiny-llm-half']);
  });

  test('errors carry their status: unknown model, bad tensors, limits, decoupled on unary, unoffered RPCs', async () => {
    for (const [method, req] of [
      ['ModelInfer', { ...irisTyped(), model_name: 'nope' }],
      ['ModelMetadata', { name: 'nope' }],
      ['ModelReady', { name: 'nope' }],
      ['ModelConfig', { name: 'nope' }],
      ['ModelStatistics', { name: 'nope' }],
    ] as const) {
      const err = await grpcError(unary(client, method, req));
      assert.equal(err.code, grpc.status.NOT_FOUND, method);
      assert.match(err.details, /unknown model: 'nope'/, method);
    }

    const short = await grpcError(unary(client, 'ModelInfer', { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3] } }] }));
    assert.equal(short.code, grpc.status.INVALID_ARGUMENT);
    assert.match(short.details, /input 'input': shape \[1,4\] needs 4 elements/);

    const mixed = await grpcError(unary(client, 'ModelInfer', { ...irisRaw(), inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 4], contents: { fp32_contents: ROWS.flat() } }] }));
    assert.equal(mixed.code, grpc.status.INVALID_ARGUMENT);
    assert.match(mixed.details, /raw_input_contents must be used for all inputs or none/);

    const upstreamShape = await grpcError(unary(client, 'ModelInfer', { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 5], contents: { fp32_contents: new Array(10).fill(1) } }] }));
    assert.equal(upstreamShape.code, grpc.status.INVALID_ARGUMENT);
    assert.match(upstreamShape.details, /Expected \[-1,4\], got \[2,5\]/);

    const large = await grpcError(unary(client, 'ModelInfer', { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [251, 4], contents: { fp32_contents: [] } }] }));
    assert.equal(large.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(large.details, /limits\.maxTensorElements/);

    const decoupled = await grpcError(unary(client, 'ModelInfer', llmRequest('u', 'hi', { stream: false })));
    assert.equal(decoupled.code, grpc.status.UNIMPLEMENTED);
    assert.match(decoupled.details, /decoupled transaction policy/);

    const index = await grpcError(unary(client, 'RepositoryIndex', {}));
    assert.equal(index.code, grpc.status.UNIMPLEMENTED);
    assert.match(index.details, /RepositoryIndex is not offered through Switchyard/);
    const shm = await grpcError(
      new Promise((resolve, reject) =>
        client.makeUnaryRequest('/inference.GRPCInferenceService/SystemSharedMemoryStatus', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (err, res) => (err ? reject(err) : resolve(res))),
      ),
    );
    assert.equal(shm.code, grpc.status.UNIMPLEMENTED);
    assert.match(shm.details, /SystemSharedMemoryStatus is not offered through Switchyard: .*send the tensor data in the request/);
  });

  test('grpc.health.v1 Check: the server, the inference service, a model; Watch is unimplemented', async () => {
    const health = healthClient(router.grpcTarget);
    try {
      assert.equal((await healthCheck(health, '')).status, 'SERVING');
      assert.equal((await healthCheck(health, 'inference.GRPCInferenceService')).status, 'SERVING');
      assert.equal((await healthCheck(health, 'iris')).status, 'SERVING');
      const unknown = await grpcError(healthCheck(health, 'nope'));
      assert.equal(unknown.code, grpc.status.NOT_FOUND);
      const watch = await new Promise<grpc.ServiceError>((resolve) => {
        const call = health.Watch({ service: '' });
        call.on('data', () => {});
        call.on('error', resolve);
      });
      assert.equal(watch.code, grpc.status.UNIMPLEMENTED);
      assert.match(watch.details, /poll Check/);
    } finally {
      health.close();
    }
  });

  test('ModelStreamInfer, tiny-llm: tokens stream back per request, each ending with its final flag, as from the runtime', async () => {
    const requests = [
      llmRequest('a', 'Tell me about routers.', { stream: true, exclude: true, sampling: { max_tokens: 6, seed: 1 } }),
      llmRequest('b', 'And about switches.', { stream: true, exclude: true, sampling: { max_tokens: 4, seed: 2 } }),
    ];
    const viaRouter = await streamWithTrailers(client, requests);
    assert.equal(viaRouter.status.code, grpc.status.OK, viaRouter.status.details);
    assert.deepEqual(viaRouter.status.metadata.get('x-switchyard-variant'), ['default']);
    assert.match(String(viaRouter.initial.get('x-request-id')[0]), /^[0-9a-f-]{36}$/);
    const expected = await runStream(direct, requests);
    for (const [id, tokens] of [['a', 6], ['b', 4]] as const) {
      const mine = viaRouter.messages.filter((m) => m.infer_response?.id === id);
      const theirs = expected.messages.filter((m) => m.infer_response?.id === id);
      assert.equal(mine.length, tokens, id);
      assert.deepEqual(mine.map(isFinal), [...new Array(tokens - 1).fill(false), true], id);
      assert.ok(mine.every((m) => m.error_message === '' && m.infer_response?.model_name === 'tiny-llm'));
      assert.equal(concat(mine), concat(theirs), id);
    }
  });

  test('ModelStreamInfer is retried on another endpoint when the first fails before any response', async () => {
    for (const id of ['r1', 'r2']) {
      const req = { ...llmRequest(id, 'Retry me.', { stream: true, exclude: true, sampling: { max_tokens: 3 } }), model_name: 'tiny-llm-half' };
      const res = await streamWithTrailers(client, [req]);
      assert.equal(res.status.code, grpc.status.OK, res.status.details);
      assert.deepEqual(res.messages.map((m) => [m.error_message, m.infer_response?.model_name, isFinal(m)]), [
        ['', 'tiny-llm-half', false],
        ['', 'tiny-llm-half', false],
        ['', 'tiny-llm-half', true],
      ]);
    }
    assert.ok(router.output.some((line) => line.includes('"event":"retry"')), 'one of the two went to the dead endpoint first');
  });

  test('ModelStreamInfer, iris (not decoupled): one final response per request, raw and typed alike', async () => {
    const expected = await unary<'ModelInfer', ModelInferRequest, ModelInferResponse__Output>(direct, 'ModelInfer', irisRaw());
    const res = await streamWithTrailers(client, [irisRaw(ROWS, 'raw'), { ...irisTyped(), id: 'typed', model_name: 'iris-alias' }]);
    assert.equal(res.status.code, grpc.status.OK);
    assert.equal(res.messages.length, 2);
    for (const m of res.messages) {
      assert.ok(isFinal(m));
      assert.deepEqual(probabilities(m.infer_response!), probabilities(expected));
    }
    const alias = res.messages.find((m) => m.infer_response?.id === 'typed');
    assert.equal(alias?.infer_response?.model_name, 'iris-alias');
  });

  test('ModelStreamInfer errors: in-band and the stream goes on, or with triton_grpc_error the status ends it', async () => {
    const inBand = await streamWithTrailers(client, [
      { ...irisTyped(), id: 'unknown', model_name: 'nope' },
      { model_name: 'iris', id: 'bad', inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 5], contents: { fp32_contents: new Array(10).fill(1) } }] },
      { ...irisTyped(), id: 'good' },
    ]);
    assert.equal(inBand.status.code, grpc.status.OK);
    const byId = new Map(inBand.messages.map((m) => [m.infer_response?.id, m]));
    assert.match(byId.get('unknown')?.error_message ?? '', /unknown model: 'nope'/);
    assert.match(byId.get('bad')?.error_message ?? '', /Expected \[-1,4\], got \[2,5\]/);
    assert.ok(isFinal(byId.get('bad')!));
    assert.equal(byId.get('good')?.error_message, '');
    assert.equal(labels(byId.get('good')!.infer_response!).length, 3);

    const md = new grpc.Metadata();
    md.set('triton_grpc_error', 'true');
    const ended = await streamWithTrailers(client, [{ ...irisTyped(), id: 'unknown', model_name: 'nope' }], md);
    assert.equal(ended.status.code, grpc.status.NOT_FOUND);
    assert.match(ended.status.details, /unknown model: 'nope'/);
    assert.deepEqual(ended.messages, []);
  });

  test('a client cancelling its stream cancels the upstream generation; the endpoint is released', async () => {
    const before = (await devStats(runtime))['tiny-llm']!;
    const call = client.ModelStreamInfer();
    call.on('error', () => {});
    await new Promise<void>((resolve) => {
      let seen = 0;
      call.on('data', () => {
        if (++seen === 2) {
          call.cancel();
          resolve();
        }
      });
      call.write(llmRequest('long', 'Go on forever.', { stream: true, exclude: true, sampling: { max_tokens: 2000, ignore_eos: true } }));
    });
    await waitFor(async () => (await devStats(runtime))['tiny-llm']!.cancelled === before.cancelled + 1, 5000, 'the runtime to count a cancel');
    assert.equal((await devStats(runtime))['tiny-llm']!.inFlight, 0);
    await waitFor(async () => Object.values((await request(`${router.adminUrl}/clusters`)).body.dev as Record<string, { inFlight: number }>).every((e) => e.inFlight === 0), 5000, 'the endpoint to be released');
  });

  test("Triton's Python client (tritonclient.grpc) works against the router as against Triton", () => {
    const run = spawnSync('python3', [SCRIPT, router.grpcTarget, runtime.grpcTarget], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, `the tritonclient check failed (needs: python3 -m pip install -r test/requirements.txt):\n${run.error ?? ''}${run.stderr}`);
    const seen = JSON.parse(run.stdout);
    assert.equal(seen.live, true);
    assert.equal(seen.ready, true);
    assert.equal(seen.model_ready, true);
    assert.equal(seen.server_name, 'switchyard');
    assert.deepEqual(seen.model_inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }]);
    assert.equal(seen.max_batch_size, 64);
    assert.equal(seen.llm_decoupled, true);
    assert.equal(seen.stats_name, 'iris');
    assert.deepEqual(seen.via_router.probabilities, seen.direct.probabilities);
    assert.deepEqual(seen.via_router.label, ['setosa', 'virginica', 'versicolor']);
    assert.equal(seen.via_router.id, 'py-grpc');
    assert.equal(seen.via_router.model_name, 'iris');
    assert.deepEqual(seen.stream_via_router.s1, seen.stream_direct.s1);
    assert.deepEqual(seen.stream_via_router.s1.finals, [false, false, false, false, true]);
    assert.match(seen.stream_via_router.err1.errors[0], /unknown model: 'no-such-model'/);
    assert.equal(seen.bad_shape_error.status, 'StatusCode.INVALID_ARGUMENT');
    assert.match(seen.bad_shape_error.message, /Expected \[-1,4\], got \[2,5\]/);
    assert.equal(seen.unknown_model_error.status, 'StatusCode.NOT_FOUND');
    assert.equal(seen.shared_memory_error.status, 'StatusCode.UNIMPLEMENTED');
    assert.match(seen.shared_memory_error.message, /not offered through Switchyard/);
    assert.equal(seen.repository_error.status, 'StatusCode.UNIMPLEMENTED');
  });
});

describe('KServe V2 gRPC when upstreams fail', () => {
  let runtime: SpawnedDevRuntime;
  let router: RunningRouter;
  let client: GRPCInferenceServiceClient;

  before(async () => {
    runtime = await spawnDevRuntime(['--hang-rate', '1']);
    const port = await closedPort();
    router = await startRouter({
      clusters: {
        dev: { backend: 'triton-grpc', endpoints: [runtime.grpcTarget] },
        down: { backend: 'triton-grpc', endpoints: [`127.0.0.1:${port}`] },
      },
      models: {
        iris: { split: [{ cluster: 'dev' }], timeoutMs: 300 },
        'iris-slow': { split: [{ cluster: 'dev', upstreamModel: 'iris' }] },
        'iris-down': { split: [{ cluster: 'down', upstreamModel: 'iris' }] },
      },
    });
    client = inferenceClient(router.grpcTarget);
  });

  after(async () => {
    client?.close();
    await router?.stop();
    await runtime?.stop();
  });

  test('backend down → UNAVAILABLE; readiness and health say so while the rest keeps working', async () => {
    const err = await grpcError(unary(client, 'ModelInfer', irisTyped([ROWS[0]!], 'iris-down')));
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.match(err.details, /unavailable/);
    assert.deepEqual(await unary(client, 'ModelReady', { name: 'iris-down' }), { ready: false });
    assert.deepEqual(await unary(client, 'ModelReady', { name: 'iris' }), { ready: true });
    assert.deepEqual(await unary(client, 'ServerReady', {}), { ready: false });
    const health = healthClient(router.grpcTarget);
    try {
      assert.equal((await healthCheck(health, '')).status, 'NOT_SERVING');
      assert.equal((await healthCheck(health, 'iris-down')).status, 'NOT_SERVING');
      assert.equal((await healthCheck(health, 'iris')).status, 'SERVING');
    } finally {
      health.close();
    }
  });

  test('the route deadline → DEADLINE_EXCEEDED from the router', async () => {
    const err = await grpcError(unary(client, 'ModelInfer', irisTyped()));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    assert.match(err.details, /deadline/);
  });

  test("the client's gRPC deadline becomes the upstream deadline; the runtime's call ends with it", async () => {
    const err = await grpcError(unary(client, 'ModelInfer', irisTyped([ROWS[0]!], 'iris-slow'), { deadline: Date.now() + 300 }));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    await waitFor(async () => (await devStats(runtime))['iris']!.inFlight === 0, 5000, 'the upstream call to end');
  });

  test('a client cancelling a unary call cancels the upstream call', async () => {
    const before = (await devStats(runtime))['iris']!;
    const call = client.ModelInfer(irisTyped([ROWS[0]!], 'iris-slow'), () => {});
    await waitFor(async () => (await devStats(runtime))['iris']!.inFlight === 1, 5000, 'the call to reach the runtime');
    call.cancel();
    await waitFor(async () => (await devStats(runtime))['iris']!.inFlight === 0, 5000, 'the upstream call to be cancelled');
    assert.equal((await devStats(runtime))['iris']!.cancelled, before.cancelled + 1);
  });
});

describe('KServe V2 gRPC admission and drain', () => {
  test('beyond limits.maxInFlight: UNAVAILABLE with retry-after at once; SIGTERM lets a running stream finish', async () => {
    const runtime = await spawnDevRuntime(['--latency-a-ms', '1000', '--token-latency-ms', '20']);
    const router = await startRouter(devConfig(runtime.grpcTarget, { iris: { split: [{ cluster: 'dev' }] }, 'tiny-llm': { split: [{ cluster: 'dev' }] } }, { limits: { maxInFlight: 2 } }));
    const client = inferenceClient(router.grpcTarget);
    try {
      const admitted = [unary(client, 'ModelInfer', irisTyped()), unary(client, 'ModelInfer', irisTyped())];
      await waitFor(async () => (await devStats(runtime))['iris']?.inFlight === 2, 5000, 'two calls in flight upstream');
      const trailers = new Promise<grpc.Metadata>((resolve) => {
        const call = client.ModelInfer(irisTyped(), () => {});
        call.on('status', (s: grpc.StatusObject) => resolve(s.metadata));
      });
      const rejected = await grpcError(unary(client, 'ModelInfer', irisTyped()));
      assert.equal(rejected.code, grpc.status.UNAVAILABLE);
      assert.match(rejected.details, /limit of 2 in-flight/);
      assert.deepEqual((await trailers).get('retry-after'), ['1']);
      const overStream = await streamWithTrailers(client, [{ ...irisTyped(), id: 'over' }]);
      assert.match(overStream.messages[0]?.error_message ?? '', /limit of 2 in-flight/);
      await Promise.all(admitted);

      // Drain: the stream started before SIGTERM gets every response and ends OK; the router exits 0.
      const messages: ModelStreamInferResponse__Output[] = [];
      const call = client.ModelStreamInfer();
      const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
      call.on('error', () => {});
      const first = new Promise<void>((resolve) => call.once('data', () => resolve()));
      call.on('data', (m: ModelStreamInferResponse__Output) => messages.push(m));
      call.write(llmRequest('drain', 'Keep going.', { stream: true, exclude: true, sampling: { max_tokens: 10, seed: 3 } }));
      await first;
      const exit = router.stop('SIGTERM');
      assert.equal((await status).code, grpc.status.OK);
      assert.equal(messages.length, 10);
      assert.ok(isFinal(messages.at(-1)!));
      assert.equal(await exit, 0);
    } finally {
      client.close();
      await router.stop();
      await runtime.stop();
    }
  });
});

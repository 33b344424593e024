// The dev runtime's fault injection and process life cycle: error-rate, hang-rate with client
// deadlines, run-time changes through /dev/faults, crash-after, env configuration, bad flags and
// SIGTERM draining.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { jsonToRaw, joinBytesElements } from '../../router/adapters/kserve-tensor/index.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelStreamInferResponse__Output } from '../../router/generated/inference/ModelStreamInferResponse.js';
import { getJson, grpcError, inferenceClient, modelInfer, withDevRuntime, postJson, spawnDevRuntime, unary, waitFor, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';

const IRIS: ModelInferRequest = {
  model_name: 'iris',
  id: 'f',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }],
  raw_input_contents: [jsonToRaw('input', 'FP32', [1, 4], [5.1, 3.5, 1.4, 0.2])],
};


async function devStats(rt: SpawnedDevRuntime, model: string): Promise<Record<string, number>> {
  return (await getJson<{ models: Record<string, Record<string, number>> }>(`${rt.httpUrl}/dev/stats`)).body.models[model] as Record<string, number>;
}

test('error rate 1 (set through DEV_RUNTIME_ERROR_RATE) fails every call with INTERNAL "injected fault"', async () => {
  await withDevRuntime(['--latency-a-ms', '1'], async (rt, client) => {
    for (let i = 0; i < 3; i++) {
      const err = await grpcError(modelInfer(client, IRIS));
      assert.equal(err.code, grpc.status.INTERNAL);
      assert.equal(err.details, 'injected fault');
    }
    // On a stream the fault is a backend error: in-band, with the final flag; the stream lives on.
    const messages = await new Promise<ModelStreamInferResponse__Output[]>((resolve, reject) => {
      const got: ModelStreamInferResponse__Output[] = [];
      const stream = client.ModelStreamInfer();
      stream.on('data', (m: ModelStreamInferResponse__Output) => got.push(m));
      stream.on('error', reject);
      stream.on('end', () => resolve(got));
      stream.write({ ...IRIS, id: 's1' });
      stream.write({ ...IRIS, id: 's2' });
      stream.end();
    });
    assert.deepEqual(messages.map((m) => [m.error_message, m.infer_response?.id, m.infer_response?.parameters['triton_final_response']?.bool_param]),
      [['injected fault', 's1', true], ['injected fault', 's2', true]]);
    assert.match(await (await fetch(`${rt.httpUrl}/metrics`)).text(), /^nv_inference_request_failure\{model="iris",reason="BACKEND",version="1"\} 5$/m);
    assert.equal((await devStats(rt, 'iris'))['failed'], 5);

    await postJson(`${rt.httpUrl}/dev/faults`, { errorRate: 0 });
    await modelInfer(client, IRIS);
  }, { DEV_RUNTIME_ERROR_RATE: '1' });
});

test('hang rate 1: the client deadline gives DEADLINE_EXCEEDED; after a /dev/faults reset it serves again', async () => {
  await withDevRuntime(['--hang-rate', '1', '--latency-a-ms', '1'], async (rt, client) => {
    const started = Date.now();
    const err = await grpcError(modelInfer(client, IRIS, { deadline: Date.now() + 300 }));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started >= 290);
    await waitFor(async () => (await devStats(rt, 'iris'))['cancelled'] === 1, 3000, 'hung call counted as cancelled');
    assert.equal((await devStats(rt, 'iris'))['inFlight'], 0);

    const reset = await postJson<{ hangRate: number }>(`${rt.httpUrl}/dev/faults`, { hangRate: 0 });
    assert.equal(reset.body.hangRate, 0);
    const ok = await modelInfer(client, IRIS, { deadline: Date.now() + 3000 });
    assert.ok(ok);
    assert.deepEqual(await unary(client, 'ServerLive', {}), { live: true });
  });
});

test('crash-after 3: the process exits with code 70 during the third inference call', async () => {
  const rt = await spawnDevRuntime(['--crash-after', '3', '--latency-a-ms', '1']);
  const client = inferenceClient(rt.grpcTarget);
  try {
    await modelInfer(client, IRIS);
    await modelInfer(client, IRIS);
    const err = await grpcError(modelInfer(client, IRIS, { deadline: Date.now() + 5000 }));
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    const exit = await rt.exited;
    assert.deepEqual(exit, { code: 70, signal: null });
    assert.match(rt.stderr(), /crash-after/);
    assert.deepEqual(await rt.stop(), exit, 'stop() on an exited runtime reports how it ended');
  } finally {
    client.close();
    await rt.stop();
  }
});

test('crashAfter set through /dev/faults counts from the change', async () => {
  const rt = await spawnDevRuntime(['--latency-a-ms', '1']);
  const client = inferenceClient(rt.grpcTarget);
  try {
    await modelInfer(client, IRIS);
    await postJson(`${rt.httpUrl}/dev/faults`, { crashAfter: 2 });
    await modelInfer(client, IRIS);
    assert.equal((await grpcError(modelInfer(client, IRIS))).code, grpc.status.UNAVAILABLE);
    assert.equal((await rt.exited).code, 70);
  } finally {
    client.close();
    await rt.stop();
  }
});

test('a bad flag makes the process exit before it is ready, and the helper says why', async () => {
  await assert.rejects(spawnDevRuntime(['--error-rate', '2']), /exited before it was ready \(code 2[\s\S]*--error-rate must be a number in 0\.\.1/);
  await assert.rejects(spawnDevRuntime(['--no-such-flag', '1']), /unknown flag --no-such-flag/);
  await assert.rejects(spawnDevRuntime(['--models', 'iris,gpt-9']), /unknown model 'gpt-9'/);
});

test('SIGTERM lets in-flight work finish, then exits 0', async () => {
  const rt = await spawnDevRuntime(['--latency-a-ms', '300', '--token-latency-ms', '5']);
  const client = inferenceClient(rt.grpcTarget);
  try {
    const pending = modelInfer(client, IRIS);
    const streamed = new Promise<number>((resolve, reject) => {
      let n = 0;
      const stream = client.ModelStreamInfer();
      stream.on('data', () => n++);
      stream.on('error', reject);
      stream.on('end', () => resolve(n));
      stream.write({
        model_name: 'tiny-llm', id: 'drain',
        inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1] }, { name: 'stream', datatype: 'BOOL', shape: [1] }, { name: 'sampling_parameters', datatype: 'BYTES', shape: [1] }],
        raw_input_contents: [joinBytesElements([Buffer.from('drain me')]), jsonToRaw('stream', 'BOOL', [1], [true]), joinBytesElements([Buffer.from('{"max_tokens": 20}')])],
      });
      // No half-close: shutdown ends the stream once its request is done.
    });
    await waitFor(async () => (await devStats(rt, 'iris'))['inFlight'] === 1 && (await devStats(rt, 'tiny-llm'))['inFlight'] === 1, 3000, 'calls in flight');
    const exit = await rt.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(await pending, 'the in-flight unary call completed');
    assert.equal(await streamed, 20, 'the in-flight stream finished its generation');
  } finally {
    client.close();
    await rt.stop();
  }
});

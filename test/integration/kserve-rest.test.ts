// KServe V2 REST through the real router process to the real dev runtime, over loopback.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawnDevRuntime, inferenceClient } from '../helpers/dev-runtime.js';
import { devConfig, startRouter, type RunningRouter } from '../helpers/start-router.js';
import { postJson, request } from '../helpers/http.js';
import type { ModelInferResponse__Output } from '../../router/generated/inference/ModelInferResponse.js';

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.3, 3.3, 6.0, 2.5],
  [5.9, 3.0, 4.2, 1.5],
];

function irisRequest(rows: number[][] = ROWS, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], data: rows }], ...extra };
}

function float32(values: number[]): Buffer {
  return Buffer.from(new Float32Array(values).buffer);
}

describe('KServe V2 REST through the router', () => {
  let runtime: Awaited<ReturnType<typeof spawnDevRuntime>>;
  let router: RunningRouter;
  let url: string;

  before(async () => {
    runtime = await spawnDevRuntime();
    router = await startRouter(
      devConfig(
        runtime.grpcTarget,
        {
          iris: { split: [{ cluster: 'dev' }] },
          'iris-alias': { split: [{ cluster: 'dev', upstreamModel: 'iris' }] },
          'tiny-llm': { split: [{ cluster: 'dev' }] },
        },
        { limits: { maxBodyBytes: 64 * 1024, maxTensorElements: 1000 } },
      ),
    );
    url = router.url;
  });

  after(async () => {
    await router?.stop();
    await runtime?.stop();
  });

  test('iris through the router gives exactly the probabilities of a direct gRPC call', async () => {
    const viaRouter = await postJson(`${url}/v2/models/iris/infer`, irisRequest(ROWS, { id: 'req-1' }));
    assert.equal(viaRouter.status, 200, viaRouter.text);
    assert.equal(viaRouter.body.model_name, 'iris');
    assert.equal(viaRouter.body.model_version, '1');
    assert.equal(viaRouter.body.id, 'req-1');

    const client = inferenceClient(runtime.grpcTarget);
    const direct = await new Promise<ModelInferResponse__Output>((resolve, reject) =>
      client.ModelInfer(
        {
          model_name: 'iris',
          inputs: [{ name: 'input', datatype: 'FP32', shape: [ROWS.length, 4] }],
          raw_input_contents: [float32(ROWS.flat())],
        },
        (err, res) => (err ? reject(err) : resolve(res!)),
      ),
    );
    client.close();
    const names = direct.outputs.map((o) => o.name);
    const probsRaw = direct.raw_output_contents[names.indexOf('probabilities')]!;
    const directProbs = [...new Float32Array(probsRaw.buffer.slice(probsRaw.byteOffset, probsRaw.byteOffset + probsRaw.length))];

    const probs = viaRouter.body.outputs.find((o: any) => o.name === 'probabilities');
    assert.deepEqual(probs.shape, [3, 3]);
    assert.equal(probs.datatype, 'FP32');
    assert.deepEqual(probs.data, directProbs);
    const labels = viaRouter.body.outputs.find((o: any) => o.name === 'label');
    assert.equal(labels.datatype, 'BYTES');
    assert.deepEqual(labels.data, ['setosa', 'virginica', 'versicolor']);
    for (let row = 0; row < 3; row++) {
      const sum = probs.data.slice(row * 3, row * 3 + 3).reduce((a: number, b: number) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5);
    }
  });

  test('a routed alias reaches the upstream model and answers with the client model name', async () => {
    const res = await postJson(`${url}/v2/models/iris-alias/versions/1/infer`, irisRequest([ROWS[0]!]));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.model_name, 'iris-alias');
    const meta = await request(`${url}/v2/models/iris-alias`);
    assert.equal(meta.body.name, 'iris-alias');
  });

  test('requested outputs and flat data are honoured', async () => {
    const res = await postJson(`${url}/v2/models/iris/infer`, {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: ROWS[0] }],
      outputs: [{ name: 'label' }],
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.outputs, [{ name: 'label', datatype: 'BYTES', shape: [1, 1], data: ['setosa'] }]);
  });

  test('every V2 endpoint answers from the fleet', async () => {
    const server = await request(`${url}/v2`);
    assert.equal(server.status, 200);
    assert.equal(server.body.name, 'switchyard');
    assert.ok(server.body.extensions.includes('binary_tensor_data'));
    assert.equal((await request(`${url}/v2/`)).status, 200);

    const live = await request(`${url}/v2/health/live`);
    assert.equal(live.status, 200);
    assert.equal(live.text, '');
    assert.equal((await request(`${url}/v2/health/ready`)).status, 200);

    for (const path of ['/v2/models/iris', '/v2/models/iris/versions/1']) {
      const meta = await request(`${url}${path}`);
      assert.equal(meta.status, 200, path);
      assert.equal(meta.body.name, 'iris');
      assert.deepEqual(meta.body.versions, ['1']);
      assert.deepEqual(meta.body.inputs, [{ name: 'input', datatype: 'FP32', shape: ['-1', '4'].map(Number) }]);
      assert.deepEqual(meta.body.outputs.map((o: any) => o.name).sort(), ['label', 'probabilities']);
    }
    assert.equal((await request(`${url}/v2/models/iris/ready`)).status, 200);
    assert.equal((await request(`${url}/v2/models/iris/versions/1/ready`)).status, 200);

    const config = await request(`${url}/v2/models/iris/config`);
    assert.equal(config.status, 200);
    assert.equal(config.body.name, 'iris');
    assert.equal(config.body.max_batch_size, 64);
    assert.deepEqual(config.body.input[0].dims, [4]);
    const llmConfig = await request(`${url}/v2/models/tiny-llm/config`);
    assert.equal(llmConfig.body.model_transaction_policy.decoupled, true);

    const stats = await request(`${url}/v2/models/iris/stats`);
    assert.equal(stats.status, 200);
    assert.equal(stats.body.model_stats[0].name, 'iris');
    assert.equal(typeof stats.body.model_stats[0].inference_count, 'number');
    assert.ok(stats.body.model_stats[0].inference_count >= 1);
  });

  test('x-request-id is echoed, or generated when absent or unusable', async () => {
    const given = await request(`${url}/v2/health/live`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(given.headers.get('x-request-id'), 'abc-123');
    const generated = await request(`${url}/v2/models/nope`);
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const unusable = await request(`${url}/v2`, { headers: { 'x-request-id': 'x'.repeat(500) } });
    assert.match(unusable.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('unknown model → 404 with a V2 error on every model API', async () => {
    for (const [method, path] of [['GET', '/v2/models/nope'], ['GET', '/v2/models/nope/ready'], ['GET', '/v2/models/nope/config'], ['POST', '/v2/models/nope/infer']] as const) {
      const res = method === 'POST' ? await postJson(`${url}${path}`, irisRequest()) : await request(`${url}${path}`);
      assert.equal(res.status, 404, path);
      assert.deepEqual(Object.keys(res.body), ['error']);
      assert.match(res.body.error, /unknown model: 'nope'/);
    }
    const noApi = await request(`${url}/v3/whatever`);
    assert.equal(noApi.status, 404);
    assert.match(noApi.body.error, /no API at GET \/v3\/whatever/);
  });

  test('bad input gets a 4xx V2 error naming the field or tensor', async () => {
    const cases: Array<[string, string | Record<string, unknown>, number, RegExp]> = [
      ['malformed JSON', '{"inputs": [', 400, /not valid JSON/],
      ['not an object', '[1,2]', 400, /must be a JSON object/],
      ['missing inputs', {}, 400, /'inputs' is required/],
      ['unknown datatype', { inputs: [{ name: 'input', datatype: 'FP33', shape: [1, 4], data: [1, 2, 3, 4] }] }, 400, /input.*FP33|FP33.*input/],
      ['wrong element type', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 'x', 3, 4] }] }, 400, /'input'/],
      ['data/shape mismatch', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3] }] }, 400, /'input'/],
      ['negative dim', { inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4], data: [1, 2, 3, 4] }] }, 400, /'input'/],
      ['datatype the model does not take', { inputs: [{ name: 'input', datatype: 'INT32', shape: [1, 4], data: [1, 2, 3, 4] }] }, 400, /data-type is 'INT32'/],
      ['shape the model does not take', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 5], data: [1, 2, 3, 4, 5] }] }, 400, /unexpected shape for input 'input'/],
      ['batch above max_batch_size', { inputs: [{ name: 'input', datatype: 'FP32', shape: [65, 4], data: new Array(260).fill(1) }] }, 400, /batch-size must be <= 64/],
      ['duplicate input', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }, { name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }, 400, /inputs\[1\]\.name.*duplicate/],
      ['bad parameters', { parameters: [], inputs: [] }, 400, /'parameters' must be an object/],
      ['bad output entry', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }], outputs: [{}] }, 400, /outputs\[0\]\.name/],
      ['too many tensor elements', { inputs: [{ name: 'input', datatype: 'FP32', shape: [300, 4], data: [] }] }, 413, /maxTensorElements/],
      ['shared memory', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], parameters: { shared_memory_region: 'r' } }] }, 501, /shared-memory/],
    ];
    for (const [name, body, status, message] of cases) {
      const res = await request(`${url}/v2/models/iris/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      assert.equal(res.status, status, `${name}: ${res.text}`);
      assert.equal(typeof res.body.error, 'string', name);
      assert.match(res.body.error, message, name);
    }
  });

  test('an oversize body → 413', async () => {
    // Few elements, many bytes: the body limit must trip, not the tensor element limit.
    const big = irisRequest(ROWS, { id: 'x'.repeat(70 * 1024) });
    const res = await postJson(`${url}/v2/models/iris/infer`, big);
    assert.equal(res.status, 413);
    assert.match(res.body.error, /maxBodyBytes/);
  });

  test('a decoupled model on unary infer → 501 with the upstream message', async () => {
    const res = await postJson(`${url}/v2/models/tiny-llm/infer`, {
      inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], data: ['hello'] }],
    });
    assert.equal(res.status, 501, res.text);
    assert.match(res.body.error, /decoupled/);
  });

  test('binary tensor extension: binary in, binary out, same numbers as JSON', async () => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 4], parameters: { binary_data_size: 48 } }],
        outputs: [{ name: 'probabilities', parameters: { binary_data: true } }, { name: 'label', parameters: { binary_data: false } }],
      }),
    );
    const res = await fetch(`${url}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([header, float32(ROWS.flat())]),
    });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    const jsonLength = Number(res.headers.get('inference-header-content-length'));
    const doc = JSON.parse(body.subarray(0, jsonLength).toString());
    const probs = doc.outputs.find((o: any) => o.name === 'probabilities');
    assert.equal(probs.parameters.binary_data_size, 36);
    assert.equal(probs.data, undefined);
    const blob = body.subarray(jsonLength);
    assert.equal(blob.length, 36);
    const binaryProbs = [...new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + 36))];
    const json = await postJson(`${url}/v2/models/iris/infer`, irisRequest());
    assert.deepEqual(binaryProbs, json.body.outputs.find((o: any) => o.name === 'probabilities').data);
    assert.deepEqual(doc.outputs.find((o: any) => o.name === 'label').data, ['setosa', 'virginica', 'versicolor']);

    const trailing = await fetch(`${url}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([header, float32(ROWS.flat()), Buffer.from([1, 2])]),
    });
    assert.equal(trailing.status, 400);
    assert.match(((await trailing.json()) as { error: string }).error, /2 bytes not claimed/);
  });

  test('the router keeps serving good requests among bad ones', async () => {
    const good = Array.from({ length: 12 }, () => postJson(`${url}/v2/models/iris/infer`, irisRequest()));
    const bad = Array.from({ length: 12 }, (_, i) =>
      request(`${url}/v2/models/iris/infer`, { method: 'POST', body: i % 2 ? '{' : JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 5], data: [1, 2, 3, 4, 5] }] }) }),
    );
    const [goods, bads] = await Promise.all([Promise.all(good), Promise.all(bad)]);
    for (const res of goods) assert.equal(res.status, 200);
    for (const res of bads) assert.equal(res.status, 400);
    const after = await postJson(`${url}/v2/models/iris/infer`, irisRequest());
    assert.equal(after.status, 200);
  });

  test('admin listener: /healthz and /readyz, and nothing of it on the client port', async () => {
    const health = await request(`${router.adminUrl}/healthz`);
    assert.equal(health.status, 200);
    const ready = await request(`${router.adminUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.models, { iris: true, 'iris-alias': true, 'tiny-llm': true });
    assert.equal((await request(`${url}/readyz`)).status, 404);
  });
});

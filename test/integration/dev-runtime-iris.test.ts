// The dev runtime's iris model over real gRPC: the maths against coefficients.json and scikit-learn,
// accuracy on the data set, Triton's raw-only answers, and Triton's validation errors and codes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { jsonToRaw, outputsFromResponse, rawToJson, splitBytesElements } from '../../router/adapters/kserve-tensor/index.js';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../../router/generated/inference/ModelInferResponse.js';
import { grpcError, inferenceClient, spawnDevRuntime, unary, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';

interface Coefficients {
  classNames: string[];
  weights: number[][];
  bias: number[];
  trainingAccuracy: number;
  referenceRows: { row: number; features: number[]; label: string; predictProba: number[] }[];
}

const IRIS_DIR = new URL('../../runtimes/dev/models/iris/', import.meta.url);
const COEF = JSON.parse(readFileSync(new URL('coefficients.json', IRIS_DIR), 'utf8')) as Coefficients;
const DATA = readFileSync(new URL('iris.csv', IRIS_DIR), 'utf8').trim().split('\n').slice(1).map((line) => {
  const cells = line.split(',').map(Number);
  return { features: cells.slice(0, 4), label: COEF.classNames[cells[4] as number] as string };
});

/** The test's own model: softmax(W x + b) in float64 on FP32-rounded features. */
function softmax(features: number[]): number[] {
  const x = features.map(Math.fround);
  const z = COEF.weights.map((w, k) => (COEF.bias[k] as number) + w.reduce((sum, wj, j) => sum + wj * (x[j] as number), 0));
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

function irisRequest(rows: number[][], extra: Partial<ModelInferRequest> = {}): ModelInferRequest {
  return {
    model_name: 'iris',
    id: 'iris-1',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4] }],
    raw_input_contents: [jsonToRaw('input', 'FP32', [rows.length, 4], rows.flat())],
    ...extra,
  };
}

function decode(resp: ModelInferResponse__Output): { probabilities: number[][]; labels: string[] } {
  const byName = new Map(outputsFromResponse(resp).map((t) => [t.name, t]));
  const probs = byName.get('probabilities');
  const label = byName.get('label');
  assert.ok(probs && label, 'both outputs present');
  const flat = rawToJson(probs.name, probs.datatype, probs.shape, probs.raw) as number[];
  return {
    probabilities: Array.from({ length: probs.shape[0] as number }, (_, r) => flat.slice(r * 3, r * 3 + 3)),
    labels: splitBytesElements(label.name, label.raw).map((b) => b.toString('utf8')),
  };
}

let runtime: SpawnedDevRuntime;
let client: GRPCInferenceServiceClient;

before(async () => {
  runtime = await spawnDevRuntime(['--models', 'iris,tiny-llm', '--latency-a-ms', '1', '--latency-b-ms', '0']);
  client = inferenceClient(runtime.grpcTarget);
});

after(async () => {
  client?.close();
  await runtime?.stop();
});

const infer = (req: ModelInferRequest) => unary<'ModelInfer', ModelInferRequest, ModelInferResponse__Output>(client, 'ModelInfer', req);

test('iris probabilities equal softmax(W x + b) from coefficients.json and sklearn predict_proba', async () => {
  const rows = COEF.referenceRows.map((r) => r.features);
  const resp = await infer(irisRequest(rows));
  const { probabilities, labels } = decode(resp);
  COEF.referenceRows.forEach((ref, i) => {
    const mine = softmax(ref.features);
    const got = probabilities[i] as number[];
    for (let k = 0; k < 3; k++) {
      assert.ok(Math.abs((got[k] as number) - (mine[k] as number)) < 1e-6, `row ${ref.row} class ${k}: runtime ${got[k]} vs test softmax ${mine[k]}`);
      assert.ok(Math.abs((got[k] as number) - (ref.predictProba[k] as number)) < 1e-6, `row ${ref.row} class ${k}: runtime ${got[k]} vs sklearn ${ref.predictProba[k]}`);
    }
    const best = mine.indexOf(Math.max(...mine));
    assert.equal(labels[i], COEF.classNames[best]);
  });
});

test('iris accuracy on the 150 rows via batched calls is >= 0.95', async () => {
  let correct = 0;
  for (let start = 0; start < DATA.length; start += 50) {
    const batch = DATA.slice(start, start + 50);
    const { labels } = decode(await infer(irisRequest(batch.map((r) => r.features))));
    assert.equal(labels.length, batch.length);
    labels.forEach((label, i) => {
      if (label === batch[i]?.label) correct++;
    });
  }
  const accuracy = correct / DATA.length;
  assert.ok(accuracy >= 0.95, `accuracy ${accuracy}`);
  assert.equal(accuracy, COEF.trainingAccuracy);
});

test('answers only in raw_output_contents, echoes id, version "1", requested outputs only', async () => {
  const resp = await infer(irisRequest([[5.1, 3.5, 1.4, 0.2]], { id: 'echo-me' }));
  assert.equal(resp.id, 'echo-me');
  assert.equal(resp.model_name, 'iris');
  assert.equal(resp.model_version, '1');
  assert.deepEqual(resp.outputs.map((o) => [o.name, o.datatype, o.shape]), [['probabilities', 'FP32', ['1', '3']], ['label', 'BYTES', ['1', '1']]]);
  for (const o of resp.outputs) assert.equal(o.contents, null, `${o.name} has no typed contents`);
  assert.equal(resp.raw_output_contents.length, 2);

  const only = await infer(irisRequest([[5.1, 3.5, 1.4, 0.2]], { outputs: [{ name: 'label' }] }));
  assert.deepEqual(only.outputs.map((o) => o.name), ['label']);
  assert.deepEqual(splitBytesElements('label', only.raw_output_contents[0] as Buffer).map(String), ['setosa']);
});

test('typed fp32_contents input is accepted and answered in raw', async () => {
  const rows = [[6.3, 3.3, 6.0, 2.5], [5.7, 2.8, 4.1, 1.3]];
  const resp = await infer({
    model_name: 'iris',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], contents: { fp32_contents: rows.flat() } }],
  });
  const { probabilities, labels } = decode(resp);
  assert.deepEqual(labels, ['virginica', 'versicolor']);
  rows.forEach((row, i) => softmax(row).forEach((p, k) => assert.ok(Math.abs(((probabilities[i] as number[])[k] as number) - p) < 1e-6)));
  assert.ok(resp.outputs.every((o) => o.contents === null));
});

const ROW = [5.1, 3.5, 1.4, 0.2];
const VALIDATION_CASES: { name: string; req: ModelInferRequest; code: status; message: string | RegExp }[] = [
  { name: 'unknown model', req: irisRequest([ROW], { model_name: 'nope' }), code: status.NOT_FOUND, message: "Request for unknown model: 'nope' is not found" },
  { name: 'unknown version', req: irisRequest([ROW], { model_version: '2' }), code: status.NOT_FOUND, message: "Request for unknown model: 'iris' version 2 is not found" },
  { name: 'non-numeric version', req: irisRequest([ROW], { model_version: 'latest' }), code: status.INVALID_ARGUMENT, message: "version string 'latest'" },
  { name: 'no inputs', req: { model_name: 'iris', id: '' }, code: status.INVALID_ARGUMENT,
    message: "[request id: <id_unknown>] expected 1 inputs but got 0 inputs for model 'iris'. Got input(s) [], but missing required input(s) ['input']." },
  {
    name: 'too many inputs',
    req: {
      model_name: 'iris', id: 'x',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }, { name: 'foo', datatype: 'FP32', shape: [1, 4] }],
      raw_input_contents: [jsonToRaw('input', 'FP32', [1, 4], ROW), jsonToRaw('foo', 'FP32', [1, 4], ROW)],
    },
    code: status.INVALID_ARGUMENT, message: "[request id: x] expected 1 inputs but got 2 inputs for model 'iris'",
  },
  {
    name: 'unknown input name',
    req: { model_name: 'iris', inputs: [{ name: 'foo', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [jsonToRaw('foo', 'FP32', [1, 4], ROW)] },
    code: status.INVALID_ARGUMENT, message: "unexpected inference input 'foo' for model 'iris'",
  },
  {
    name: 'datatype mismatch',
    req: { model_name: 'iris', inputs: [{ name: 'input', datatype: 'INT32', shape: [1, 4] }], raw_input_contents: [jsonToRaw('input', 'INT32', [1, 4], [5, 3, 1, 0])] },
    code: status.INVALID_ARGUMENT, message: "inference input 'input' data-type is 'INT32', but model 'iris' expects 'FP32'",
  },
  {
    name: 'shape mismatch',
    req: { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 5] }], raw_input_contents: [jsonToRaw('input', 'FP32', [2, 5], new Array(10).fill(1))] },
    code: status.INVALID_ARGUMENT, message: "unexpected shape for input 'input' for model 'iris'. Expected [-1,4], got [2,5]",
  },
  {
    name: 'missing batch dimension',
    req: { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [4] }], raw_input_contents: [jsonToRaw('input', 'FP32', [4], ROW)] },
    code: status.INVALID_ARGUMENT, message: "unexpected shape for input 'input' for model 'iris'. Expected [-1,4], got [4]",
  },
  { name: 'batch of 65 > max_batch_size 64', req: irisRequest(new Array(65).fill(ROW)), code: status.INVALID_ARGUMENT, message: "inference request batch-size must be <= 64 for 'iris'" },
  { name: 'unknown requested output', req: irisRequest([ROW], { outputs: [{ name: 'foo' }] }), code: status.INVALID_ARGUMENT, message: "unexpected inference output 'foo' for model 'iris'" },
  {
    name: 'raw byte size mismatch',
    req: { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4] }], raw_input_contents: [jsonToRaw('input', 'FP32', [1, 4], ROW)] },
    code: status.INVALID_ARGUMENT, message: "input byte size mismatch for input 'input' for model 'iris'. Expected 32, got 16",
  },
  {
    name: 'raw and typed contents mixed',
    req: {
      model_name: 'iris',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: ROW } }],
      raw_input_contents: [jsonToRaw('input', 'FP32', [1, 4], ROW)],
    },
    code: status.INVALID_ARGUMENT, message: /raw_input_contents/,
  },
  {
    name: 'typed contents with the wrong element count',
    req: { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3] } }] },
    code: status.INVALID_ARGUMENT, message: /input/,
  },
  {
    name: 'shared memory input',
    req: { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], parameters: { shared_memory_region: { string_param: 'r0' } } }] },
    code: status.INVALID_ARGUMENT, message: "Unable to find system shared memory region: 'r0'",
  },
  {
    name: 'ModelInfer on the decoupled tiny-llm',
    req: { model_name: 'tiny-llm', inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('hi')] } }] },
    code: status.UNIMPLEMENTED, message: "ModelInfer RPC doesn't support models with decoupled transaction policy",
  },
];

for (const c of VALIDATION_CASES) {
  test(`rejects: ${c.name}`, async () => {
    const err: ServiceError = await grpcError(infer(c.req));
    assert.equal(err.code, c.code, `code ${status[err.code]}: ${err.details}`);
    if (typeof c.message === 'string') assert.ok(err.details.includes(c.message), `details: ${err.details}`);
    else assert.match(err.details, c.message);
  });
}

test('validation failures are counted and never break the runtime', async () => {
  const stats = await unary<'ModelStatistics', object, { model_stats: { inference_stats: { fail: { count: string } } }[] }>(
    client, 'ModelStatistics', { name: 'iris' });
  assert.ok(Number(stats.model_stats[0]?.inference_stats.fail.count) >= 10);
  const { labels } = decode(await infer(irisRequest([ROW])));
  assert.deepEqual(labels, ['setosa']);
});

// tiny-llm-trt over ModelStreamInfer: TensorRT-LLM's `ensemble` contract ([1,1] tensors, INT32
// counts, batch/sequence index, no finish_reason), the same words as tiny-llm for the same seed
// and prompt, max_tokens and stop words (kept in the text), the flags-only final of a stream,
// Triton's and the model's errors, metadata/config views, and cancellation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { jsonToRaw, joinBytesElements } from '../../router/adapters/kserve-tensor/index.js';
import type { Datatype } from '../../router/core/datatype.js';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import type { InferParameter } from '../../router/generated/inference/InferParameter.js';
import type { ModelConfigResponse__Output } from '../../router/generated/inference/ModelConfigResponse.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelMetadataResponse__Output } from '../../router/generated/inference/ModelMetadataResponse.js';
import type { ModelStatisticsResponse__Output } from '../../router/generated/inference/ModelStatisticsResponse.js';
import type { ModelStreamInferResponse__Output } from '../../router/generated/inference/ModelStreamInferResponse.js';
import { countTokens } from '../../runtimes/dev/models/tiny-llm/tiny-llm-tokenizer.js';
import {
  getJson, grpcError, inferenceClient, modelInfer, postJson, spawnDevRuntime, unary, waitFor, type SpawnedDevRuntime,
} from '../helpers/dev-runtime.js';
import { cancelAfter, concat, isFinal, llmRequest, output, runStream } from '../helpers/llm-stream.js';

const MODEL = 'tiny-llm-trt';
const PROMPT = 'Write a short poem about routers.';

type Scalar = number | bigint | boolean;

interface TrtOptions {
  /** null leaves the required input out. */
  maxTokens?: number | null;
  stream?: boolean;
  exclude?: boolean;
  seed?: number | bigint;
  stopWords?: string[];
  /** return_num_input_tokens and return_num_output_tokens. */
  counts?: boolean;
  /** Any other [1,1] scalar input, by name. */
  scalars?: Record<string, [Datatype, Scalar]>;
  /** Rows in the batch (every input repeated). */
  batch?: number;
  parameters?: Record<string, InferParameter>;
}

/** A request in the ensemble's shape: every tensor [batch, ...], scalars [1,1], raw contents. */
function trtRequest(id: string, prompt: string, o: TrtOptions = {}): ModelInferRequest {
  const rows = o.batch ?? 1;
  const inputs: NonNullable<ModelInferRequest['inputs']> = [];
  const raw: Buffer[] = [];
  const strings = (name: string, values: string[]) => {
    inputs.push({ name, datatype: 'BYTES', shape: [rows, values.length] });
    raw.push(joinBytesElements(new Array(rows).fill(values).flat().map((v: string) => Buffer.from(v, 'utf8'))));
  };
  const scalar = (name: string, datatype: Datatype, value: Scalar) => {
    inputs.push({ name, datatype, shape: [rows, 1] });
    raw.push(jsonToRaw(name, datatype, [rows, 1], new Array(rows).fill(value)));
  };
  strings('text_input', [prompt]);
  if (o.maxTokens !== null) scalar('max_tokens', 'INT32', o.maxTokens ?? 200);
  if (o.stream !== undefined) scalar('stream', 'BOOL', o.stream);
  if (o.exclude !== undefined) scalar('exclude_input_in_output', 'BOOL', o.exclude);
  if (o.seed !== undefined) scalar('seed', 'UINT64', o.seed);
  if (o.stopWords !== undefined) strings('stop_words', o.stopWords);
  if (o.counts === true) {
    scalar('return_num_input_tokens', 'BOOL', true);
    scalar('return_num_output_tokens', 'BOOL', true);
  }
  for (const [name, [datatype, value]] of Object.entries(o.scalars ?? {})) scalar(name, datatype, value);
  return { model_name: MODEL, id, inputs, raw_input_contents: raw, parameters: o.parameters ?? {} };
}

const text = (m: ModelStreamInferResponse__Output | undefined): string => output(m?.infer_response, 'text_output') as string;

/** The single message of a one-request stream. */
async function only(client: GRPCInferenceServiceClient, request: ModelInferRequest): Promise<ModelStreamInferResponse__Output> {
  const res = await runStream(client, [request]);
  assert.equal(res.error, undefined);
  assert.equal(res.messages.length, 1, `one message for ${request.id}`);
  return res.messages[0]!;
}

/** The stream status when opened with triton_grpc_error: true (so errors carry their gRPC code). */
async function streamStatus(client: GRPCInferenceServiceClient, request: ModelInferRequest): Promise<grpc.ServiceError> {
  const metadata = new grpc.Metadata();
  metadata.set('triton_grpc_error', 'true');
  const res = await runStream(client, [request], metadata);
  assert.ok(res.error, `expected ${request.id} to fail`);
  return res.error;
}

const ENABLE_EMPTY_FINAL = { triton_enable_empty_final_response: { bool_param: true } };

let runtime: SpawnedDevRuntime;
let client: GRPCInferenceServiceClient;

before(async () => {
  runtime = await spawnDevRuntime(['--models', 'iris,tiny-llm,tiny-llm-trt', '--token-latency-ms', '1', '--latency-a-ms', '1']);
  client = inferenceClient(runtime.grpcTarget);
});

after(async () => {
  client?.close();
  await runtime?.stop();
});

test('metadata and config: platform ensemble, max_batch_size 8, decoupled, required text_input and max_tokens', async () => {
  const meta = await unary<'ModelMetadata', object, ModelMetadataResponse__Output>(client, 'ModelMetadata', { name: MODEL });
  assert.equal(meta.platform, 'ensemble');
  assert.deepEqual(meta.inputs.find((i) => i.name === 'text_input'), { name: 'text_input', datatype: 'BYTES', shape: ['-1', '1'] });
  assert.deepEqual(meta.inputs.find((i) => i.name === 'seed'), { name: 'seed', datatype: 'UINT64', shape: ['-1', '1'] });
  assert.deepEqual(meta.inputs.find((i) => i.name === 'stop_words'), { name: 'stop_words', datatype: 'BYTES', shape: ['-1', '-1'] });
  assert.deepEqual(meta.outputs.map((o) => [o.name, o.datatype, o.shape]), [
    ['text_output', 'BYTES', ['-1', '-1']],
    ['num_input_tokens', 'INT32', ['-1', '1']],
    ['num_output_tokens', 'INT32', ['-1', '1']],
    ['batch_index', 'INT32', ['-1', '1']],
    ['sequence_index', 'INT32', ['-1', '1']],
  ]);

  const { config } = await unary<'ModelConfig', object, ModelConfigResponse__Output>(client, 'ModelConfig', { name: MODEL });
  assert.ok(config);
  assert.equal(config.platform, 'ensemble');
  assert.equal(config.backend, '');
  assert.equal(config.max_batch_size, 8);
  assert.equal(config.model_transaction_policy?.decoupled, true);
  assert.deepEqual(config.instance_group, []);
  assert.deepEqual(config.input.filter((i) => !i.optional).map((i) => [i.name, i.data_type, i.dims]), [
    ['text_input', 'TYPE_STRING', ['1']], ['max_tokens', 'TYPE_INT32', ['1']],
  ]);
  assert.equal(config.input.length, 21);
  assert.equal(config.input.find((i) => i.name === 'top_p')?.data_type, 'TYPE_FP32');
  assert.equal(config.output.find((o) => o.name === 'finish_reason'), undefined, 'TensorRT-LLM has no finish_reason');

  const stats = await getJson<{ models: Record<string, unknown> }>(`${runtime.httpUrl}/dev/stats`);
  assert.deepEqual(Object.keys(stats.body.models).sort(), ['iris', 'tiny-llm', 'tiny-llm-trt']);
});

test('streaming: one [1,1] response per token, deltas concatenate to the non-stream text, then nothing final unless asked for', async () => {
  const streamed = await runStream(client, [trtRequest('s', PROMPT, { stream: true, seed: 11, counts: true })]);
  assert.equal(streamed.error, undefined, 'the stream ends once the request is done');
  const msgs = streamed.messages;
  assert.ok(msgs.length >= 24 && msgs.length <= 64, `natural length 24..64, got ${msgs.length}`);
  assert.ok(msgs.every((m) => m.error_message === '' && m.infer_response?.id === 's' && m.infer_response.model_name === MODEL));
  assert.deepEqual(msgs.map(isFinal), new Array(msgs.length).fill(false), 'the empty final is dropped without triton_enable_empty_final_response');
  for (const m of msgs) {
    assert.deepEqual(m.infer_response?.outputs.map((o) => [o.name, o.datatype, o.shape]), [
      ['text_output', 'BYTES', ['1', '1']],
      ['num_input_tokens', 'INT32', ['1', '1']],
      ['num_output_tokens', 'INT32', ['1', '1']],
      ['batch_index', 'INT32', ['1', '1']],
      ['sequence_index', 'INT32', ['1', '1']],
    ]);
    assert.equal(output(m.infer_response, 'num_output_tokens'), 1);
    assert.equal(output(m.infer_response, 'num_input_tokens'), countTokens(PROMPT));
    assert.equal(output(m.infer_response, 'batch_index'), 0);
    assert.equal(output(m.infer_response, 'sequence_index'), 0);
  }
  assert.equal(countTokens(PROMPT), 7, 'Write a short poem about routers . = 7 tokens');
  const streamedText = concat(msgs);
  assert.match(streamedText, /^( [a-z]+)+$/);
  assert.equal(streamedText.split(' ').length - 1, msgs.length, 'one word per token response');

  const whole = await only(client, trtRequest('n', PROMPT, { seed: 11, exclude: true, counts: true }));
  assert.ok(isFinal(whole));
  assert.equal(text(whole), streamedText);
  assert.equal(output(whole.infer_response, 'num_output_tokens'), msgs.length);
  assert.equal(output(whole.infer_response, 'num_input_tokens'), 7);
  assert.deepEqual(whole.infer_response?.outputs.map((o) => o.shape), [['1', '1'], ['1', '1'], ['1', '1'], ['1', '1'], ['1', '1']]);

  const echoed = await only(client, trtRequest('e', PROMPT, { seed: 11 }));
  assert.equal(text(echoed), PROMPT + streamedText, 'the input is prepended by default, as TensorRT-LLM does');
  assert.deepEqual(echoed.infer_response?.outputs.map((o) => o.name), ['text_output', 'batch_index', 'sequence_index'], 'token counts only when asked for');
  const streamedEcho = await runStream(client, [trtRequest('se', PROMPT, { stream: true, seed: 11, exclude: false })]);
  assert.equal(concat(streamedEcho.messages), streamedText, 'streaming never repeats the input');
});

test('the flags-only final response arrives only with triton_enable_empty_final_response', async () => {
  const enabled = await runStream(client, [trtRequest('on', PROMPT, { stream: true, maxTokens: 4, parameters: ENABLE_EMPTY_FINAL })]);
  assert.equal(enabled.error, undefined);
  assert.deepEqual(enabled.messages.map(isFinal), [false, false, false, false, true]);
  const last = enabled.messages.at(-1)!;
  assert.equal(last.error_message, '');
  assert.deepEqual(last.infer_response?.outputs, []);
  assert.deepEqual(last.infer_response?.raw_output_contents, []);
  assert.equal(last.infer_response?.id, 'on');
  assert.equal(last.infer_response?.model_name, MODEL);

  const dropped = await runStream(client, [trtRequest('off', PROMPT, { stream: true, maxTokens: 4 })]);
  assert.equal(dropped.error, undefined);
  assert.deepEqual(dropped.messages.map(isFinal), [false, false, false, false]);

  const whole = await runStream(client, [trtRequest('n', PROMPT, { maxTokens: 4, parameters: ENABLE_EMPTY_FINAL })]);
  assert.deepEqual(whole.messages.map(isFinal), [true], 'non-streaming answers once, final, with outputs');
  assert.ok(whole.messages[0]!.infer_response!.outputs.length > 0);
});

test('same seed and prompt give the same words as tiny-llm; without a seed the prompt decides', async () => {
  const tiny = async (sampling: Record<string, unknown>, prompt = PROMPT) =>
    text(await only(client, llmRequest('t', prompt, { exclude: true, sampling, returns: false })));
  const trt = async (o: TrtOptions, prompt = PROMPT) => text(await only(client, trtRequest('r', prompt, { exclude: true, ...o })));

  const seeded = await trt({ seed: 7, maxTokens: 12 });
  assert.equal(seeded, await tiny({ seed: 7, max_tokens: 12 }));
  assert.equal(await trt({ seed: 7, maxTokens: 12, scalars: { temperature: ['FP32', 0.7], top_k: ['INT32', 40] } }), seeded, 'sampling values are unused');
  assert.notEqual(await trt({ seed: 8, maxTokens: 12 }), seeded);
  assert.equal(await trt({ seed: 7, maxTokens: 12 }, 'Other prompt'), seeded, 'the seed alone picks the words');
  const big = 2n ** 40n + 7n;
  assert.equal(await trt({ seed: big, maxTokens: 12 }), await tiny({ seed: Number(big), max_tokens: 12 }), 'a UINT64 seed beyond 32 bits');

  const unseeded = await trt({ maxTokens: 200 });
  assert.equal(unseeded, await tiny({ max_tokens: 200 }), 'same natural end (EOS) as tiny-llm');
  assert.notEqual(await trt({ maxTokens: 200 }, 'Other prompt'), unseeded);
});

test('max_tokens ends generation at exactly that many tokens', async () => {
  for (const maxTokens of [1, 5, 17]) {
    const streamed = await runStream(client, [trtRequest(`l${maxTokens}`, PROMPT, { stream: true, maxTokens, counts: true })]);
    assert.equal(streamed.messages.length, maxTokens);
    const whole = await only(client, trtRequest(`w${maxTokens}`, PROMPT, { maxTokens, exclude: true, counts: true }));
    assert.equal(output(whole.infer_response, 'num_output_tokens'), maxTokens);
    assert.equal((text(whole).match(/ [a-z]+/g) ?? []).length, maxTokens);
  }
});

test('a stop word ends generation and stays in the text (TensorRT-LLM detokenizes every output id)', async () => {
  const full = text(await only(client, trtRequest('f', PROMPT, { exclude: true, seed: 3 })));
  const words = full.split(' ').filter(Boolean);
  // A word whose first occurrence is a whole word, so the expected cut is on a token boundary.
  const word = words.slice(4).find((w) => `${full} `.indexOf(` ${w} `) === full.indexOf(` ${w}`));
  assert.ok(word !== undefined);
  const stop = ` ${word}`;
  const expected = full.slice(0, full.indexOf(stop) + stop.length);
  const tokens = expected.split(' ').length - 1;
  assert.ok(tokens < words.length, 'the stop word comes before the natural end');

  const streamed = await runStream(client, [trtRequest('st', PROMPT, { stream: true, seed: 3, stopWords: [stop, 'never-generated'], counts: true })]);
  assert.equal(concat(streamed.messages), expected);
  assert.ok(concat(streamed.messages).endsWith(stop));
  assert.equal(streamed.messages.length, tokens);
  const whole = await only(client, trtRequest('sw', PROMPT, { exclude: true, seed: 3, stopWords: [stop], counts: true }));
  assert.equal(text(whole), expected);
  assert.equal(output(whole.infer_response, 'num_output_tokens'), tokens);
});

test('missing max_tokens: Triton INVALID_ARGUMENT naming it; ModelInfer is refused for the decoupled model', async () => {
  const missing = trtRequest('m', PROMPT, { maxTokens: null });
  const message = "[request id: m] expected number of inputs between 2 and 21 but got 1 inputs for model 'tiny-llm-trt'. " +
    "Got input(s) ['text_input'], but missing required input(s) ['max_tokens']. Please provide all required input(s).";
  const err = await streamStatus(client, missing);
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(err.details, message);
  const inBand = await only(client, missing);
  assert.equal(inBand.error_message, message);
  assert.equal(inBand.infer_response?.parameters['triton_final_response'], undefined, 'a request error carries only the id');

  const withStream = await only(client, trtRequest('m2', PROMPT, { maxTokens: null, stream: true }));
  assert.match(withStream.error_message, /missing required input\(s\) \['max_tokens'\]/);

  const refused = await grpcError(modelInfer(client, trtRequest('u', PROMPT)));
  assert.equal(refused.code, grpc.status.UNIMPLEMENTED);
  assert.equal(refused.details, "ModelInfer RPC doesn't support models with decoupled transaction policy");
});

test('Triton shape rules: scalars need the batch dim, batches beyond max_batch_size 8 are refused', async () => {
  const noBatchDim: ModelInferRequest = {
    model_name: MODEL, id: 'nb',
    inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1] }, { name: 'max_tokens', datatype: 'INT32', shape: [1] }],
    raw_input_contents: [joinBytesElements([Buffer.from(PROMPT)]), jsonToRaw('max_tokens', 'INT32', [1], [4])],
  };
  const shape = await streamStatus(client, noBatchDim);
  assert.equal(shape.code, grpc.status.INVALID_ARGUMENT);
  assert.match(shape.details, /^\[request id: nb\] unexpected shape for input 'text_input' for model 'tiny-llm-trt'\. Expected \[-1,1\], got \[1\]\./);
  const tooMany = await streamStatus(client, trtRequest('b9', PROMPT, { batch: 9 }));
  assert.equal(tooMany.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(tooMany.details, "[request id: b9] inference request batch-size must be <= 8 for 'tiny-llm-trt'");
});

test('model errors: a batch of prompts and return_log_probs are refused; sampling values are range-checked', async () => {
  const batch = await streamStatus(client, trtRequest('b2', PROMPT, { batch: 2 }));
  assert.equal(batch.code, grpc.status.INVALID_ARGUMENT);
  assert.match(batch.details, /^tiny-llm-trt generates one sequence per request; got a batch of 2 prompts/);

  const logProbs = await streamStatus(client, trtRequest('lp', PROMPT, { scalars: { return_log_probs: ['BOOL', true] } }));
  assert.equal(logProbs.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(logProbs.details, 'return_log_probs is not supported by the dev runtime');
  const noLogProbs = await only(client, trtRequest('lp0', PROMPT, { maxTokens: 2, scalars: { return_log_probs: ['BOOL', false] } }));
  assert.equal(noLogProbs.error_message, '');

  const bad: [string, [Datatype, Scalar]][] = [
    ['top_p', ['FP32', 1.5]], ['top_p', ['FP32', -0.1]], ['temperature', ['FP32', -0.5]], ['top_k', ['INT32', -1]], ['min_tokens', ['INT32', -1]],
  ];
  for (const [name, value] of bad) {
    const err = await streamStatus(client, trtRequest(name, PROMPT, { scalars: { [name]: value } }));
    assert.equal(err.code, grpc.status.INTERNAL, name);
    assert.match(err.details, /^\[TensorRT-LLM\]\[ERROR\] Assertion failed: /, name);
  }
  const edges: Record<string, [Datatype, Scalar]> = { top_p: ['FP32', 0], temperature: ['FP32', 0], top_k: ['INT32', 0], min_tokens: ['INT32', 0] };
  const ok = await only(client, trtRequest('edges', PROMPT, { maxTokens: 2, scalars: edges }));
  assert.equal(ok.error_message, '', 'top_p 0, temperature 0, top_k 0 and min_tokens 0 are accepted');

  const inBand = await only(client, trtRequest('lp-in-band', PROMPT, { scalars: { return_log_probs: ['BOOL', true] } }));
  assert.equal(inBand.error_message, 'return_log_probs is not supported by the dev runtime');
  assert.equal(inBand.infer_response?.model_name, MODEL, 'a model error carries model name and final flag');
  assert.ok(isFinal(inBand));
});

test('cancelling the stream mid-generation stops it and is counted', async () => {
  type Stats = { models: Record<string, Record<string, number>> };
  const statsUrl = `${runtime.httpUrl}/dev/stats`;
  const trtStats = async () => (await getJson<Stats>(statsUrl)).body.models[MODEL]!;
  const before = await trtStats();
  await postJson(`${runtime.httpUrl}/dev/faults`, { tokenLatencyMs: 20 });
  try {
    await cancelAfter(client, trtRequest('long', PROMPT, { stream: true, maxTokens: 2000, seed: 1 }), 3);
    await waitFor(async () => (await trtStats())['cancelled'] === before['cancelled']! + 1, 3000, 'cancel counted in /dev/stats');
    const now = await trtStats();
    assert.equal(now['inFlight'], 0);
    assert.equal(now['succeeded'], before['succeeded']);
    const generated = now['tokens']! - before['tokens']!;
    assert.ok(generated >= 3 && generated < 2000, `generation stopped early (${generated} of 2000 tokens)`);
    assert.equal((await trtStats())['tokens'], now['tokens'], 'no tokens after the cancel was counted');

    const stats = await unary<'ModelStatistics', object, ModelStatisticsResponse__Output>(client, 'ModelStatistics', { name: MODEL });
    const cancels = Object.values(stats.model_stats[0]!.response_stats).reduce((sum, r) => sum + Number(r.cancel?.count ?? 0), 0);
    assert.equal(cancels, 1);
    assert.match(await (await fetch(`${runtime.httpUrl}/metrics`)).text(), /^nv_inference_request_failure\{model="tiny-llm-trt",reason="CANCELED",version="1"\} 1$/m);
  } finally {
    await postJson(`${runtime.httpUrl}/dev/faults`, { tokenLatencyMs: 1 });
  }
});

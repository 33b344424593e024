// tiny-llm over ModelStreamInfer: the vLLM backend contract (deltas, finish reasons, token
// counts), determinism, stop/length, Triton's final-response flags in both modes, in-band errors
// vs triton_grpc_error, cancellation, interleaving, and non-decoupled models on a stream.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { jsonToRaw } from '../../router/adapters/kserve-tensor/index.js';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelStatisticsResponse__Output } from '../../router/generated/inference/ModelStatisticsResponse.js';
import type { ModelStreamInferResponse__Output } from '../../router/generated/inference/ModelStreamInferResponse.js';
import { getJson, inferenceClient, postJson, spawnDevRuntime, unary, waitFor, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';
import { cancelAfter, concat, isFinal, llmRequest, output, runStream } from '../helpers/llm-stream.js';

const byId = (messages: ModelStreamInferResponse__Output[], id: string) => messages.filter((m) => m.infer_response?.id === id);

let runtime: SpawnedDevRuntime;
let client: GRPCInferenceServiceClient;

before(async () => {
  runtime = await spawnDevRuntime(['--models', 'iris,tiny-llm', '--token-latency-ms', '1', '--latency-a-ms', '1']);
  client = inferenceClient(runtime.grpcTarget);
});

after(async () => {
  client?.close();
  await runtime?.stop();
});

const PROMPT = 'Write a short poem about routers.';

test('streaming deltas concatenate to the non-streaming text; counts and finish reasons like the vLLM backend', async () => {
  const streamed = await runStream(client, [llmRequest('s', PROMPT, { stream: true, sampling: { max_tokens: 200 } })]);
  assert.equal(streamed.error, undefined);
  const msgs = streamed.messages;
  assert.ok(msgs.length >= 24 && msgs.length <= 64, `natural length 24..64, got ${msgs.length}`);
  assert.ok(msgs.every((m) => m.error_message === ''));
  assert.deepEqual(msgs.map(isFinal), [...new Array(msgs.length - 1).fill(false), true]);
  assert.ok(msgs.every((m) => output(m.infer_response, 'num_output_tokens') === 1));
  assert.ok(msgs.every((m) => output(m.infer_response, 'num_input_tokens') === 7), 'Write a short poem about routers . = 7 tokens');
  assert.deepEqual(msgs.slice(0, -1).map((m) => output(m.infer_response, 'finish_reason')), new Array(msgs.length - 1).fill('None'));
  assert.equal(output(msgs.at(-1)!.infer_response, 'finish_reason'), 'stop');
  const text = concat(msgs);
  assert.match(text, /^( [a-z]+)+$/);

  const whole = await runStream(client, [llmRequest('n', PROMPT, { stream: false, exclude: true, sampling: { max_tokens: 200 } })]);
  assert.equal(whole.messages.length, 1);
  const only = whole.messages[0]!;
  assert.ok(isFinal(only));
  assert.equal(output(only.infer_response, 'text_output'), text);
  assert.equal(output(only.infer_response, 'num_output_tokens'), msgs.length);
  assert.equal(output(only.infer_response, 'finish_reason'), 'stop');

  const echoed = await runStream(client, [llmRequest('e', PROMPT, { sampling: { max_tokens: 200 }, returns: false })]);
  assert.equal(output(echoed.messages[0]!.infer_response, 'text_output'), PROMPT + text, 'non-streaming prepends the prompt by default');
  assert.deepEqual(echoed.messages[0]!.infer_response?.outputs.map((o) => o.name), ['text_output'], 'extra outputs only when asked for');
});

test('generation is deterministic: by seed if given, else by prompt', async () => {
  const gen = async (prompt: string, sampling: Record<string, unknown>) =>
    output((await runStream(client, [llmRequest('d', prompt, { exclude: true, sampling })])).messages[0]!.infer_response, 'text_output');
  const a1 = await gen(PROMPT, { seed: 7, max_tokens: 12 });
  assert.equal(await gen(PROMPT, { seed: 7, max_tokens: 12, temperature: 0.7 }), a1);
  assert.notEqual(await gen(PROMPT, { seed: 8, max_tokens: 12 }), a1);
  assert.equal(await gen('Other prompt', { seed: 7, max_tokens: 12 }), a1, 'the seed alone picks the tokens');
  const p1 = await gen(PROMPT, { max_tokens: 12 });
  assert.equal(await gen(PROMPT, { max_tokens: 12 }), p1);
  assert.notEqual(await gen('Other prompt', { max_tokens: 12 }), p1);
});

test('max_tokens ends with "length"; a stop string ends with "stop" and is cut from the text', async () => {
  const capped = await runStream(client, [llmRequest('l', PROMPT, { stream: true, sampling: { max_tokens: 5 } })]);
  assert.equal(capped.messages.length, 5);
  assert.equal(output(capped.messages.at(-1)!.infer_response, 'finish_reason'), 'length');

  const full = output((await runStream(client, [llmRequest('f', PROMPT, { exclude: true, sampling: { max_tokens: 200 } })])).messages[0]!.infer_response, 'text_output') as string;
  const words = full.split(' ').filter(Boolean);
  const stopWord = ` ${words[5]}`;
  const expected = full.slice(0, full.indexOf(stopWord));
  for (const stop of [stopWord, [stopWord, 'never-generated']]) {
    const streamed = await runStream(client, [llmRequest('st', PROMPT, { stream: true, sampling: { max_tokens: 200, stop } })]);
    assert.equal(concat(streamed.messages), expected, `stop ${JSON.stringify(stop)}`);
    assert.equal(output(streamed.messages.at(-1)!.infer_response, 'finish_reason'), 'stop');
    assert.ok(streamed.messages.length <= 6);
  }
  const whole = await runStream(client, [llmRequest('sw', PROMPT, { exclude: true, sampling: { max_tokens: 200, stop: stopWord } })]);
  assert.equal(output(whole.messages[0]!.infer_response, 'text_output'), expected);
});

test('sampling parameters may come from request parameters when the input is absent', async () => {
  const res = await runStream(client, [llmRequest('p', PROMPT, { stream: true, parameters: { max_tokens: { int64_param: 3 } } })]);
  assert.equal(res.messages.length, 3);
  assert.equal(output(res.messages.at(-1)!.infer_response, 'finish_reason'), 'length');
});

test('in-band errors keep the stream open: request errors carry the id, backend errors also the final flag', async () => {
  const res = await runStream(client, [
    { ...llmRequest('bad-model', PROMPT), model_name: 'nope' },
    { model_name: 'tiny-llm', id: 'no-text', inputs: [{ name: 'stream', datatype: 'BOOL', shape: [1], contents: { bool_contents: [true] } }] },
    llmRequest('stream-echo', PROMPT, { stream: true, exclude: false }),
    llmRequest('bad-json', PROMPT, { sampling: '{max_tokens: 3' }),
    llmRequest('bad-value', PROMPT, { sampling: { top_p: 0 } }),
    llmRequest('ok', PROMPT, { stream: true, sampling: { max_tokens: 4 } }),
  ]);
  assert.equal(res.error, undefined);
  const errorOf = (id: string) => {
    const found = byId(res.messages, id);
    assert.equal(found.length, 1, id);
    return found[0]!;
  };
  const badModel = errorOf('bad-model');
  assert.equal(badModel.error_message, "Request for unknown model: 'nope' is not found");
  assert.equal(badModel.infer_response?.model_name, '');
  assert.equal(badModel.infer_response?.parameters['triton_final_response'], undefined);
  assert.match(errorOf('no-text').error_message, /missing required input\(s\) \['text_input'\]/);

  const echo = errorOf('stream-echo');
  assert.equal(echo.error_message, 'Error generating stream: When streaming, `exclude_input_in_output` = False is not allowed.');
  assert.equal(echo.infer_response?.model_name, 'tiny-llm');
  assert.ok(isFinal(echo));
  assert.match(errorOf('bad-json').error_message, /^Error generating stream: sampling_parameters is not valid JSON/);
  assert.equal(errorOf('bad-value').error_message, 'Error generating stream: top_p must be in (0, 1], got 0.');
  assert.equal(byId(res.messages, 'ok').length, 4);
});

test('with metadata triton_grpc_error: true the first error ends the stream with its status', async () => {
  const metadata = new grpc.Metadata();
  metadata.set('triton_grpc_error', 'true');
  const bad = await runStream(client, [{ ...llmRequest('x', PROMPT), model_name: 'nope' }], metadata);
  assert.equal(bad.error?.code, grpc.status.NOT_FOUND);
  assert.equal(bad.error?.details, "Request for unknown model: 'nope' is not found");
  assert.equal(bad.messages.length, 0);
  const backend = await runStream(client, [llmRequest('y', PROMPT, { stream: true, exclude: false })], metadata);
  assert.equal(backend.error?.code, grpc.status.INTERNAL);
  const good = await runStream(client, [llmRequest('z', PROMPT, { stream: true, sampling: { max_tokens: 2 } })], metadata);
  assert.equal(good.error, undefined);
  assert.equal(good.messages.length, 2);
});

test('two requests on one stream interleave and correlate by id', async () => {
  await postJson(`${runtime.httpUrl}/dev/faults`, { tokenLatencyMs: 10 });
  try {
    const res = await runStream(client, [
      llmRequest('a', PROMPT, { stream: true, sampling: { max_tokens: 8, seed: 1 } }),
      llmRequest('b', PROMPT, { stream: true, sampling: { max_tokens: 8, seed: 2 } }),
    ]);
    const ids = res.messages.map((m) => m.infer_response?.id);
    assert.equal(ids.length, 16);
    const firstFinal = res.messages.findIndex(isFinal);
    assert.ok(ids.slice(0, firstFinal).includes('a') && ids.slice(0, firstFinal).includes('b'), `interleaved: ${ids.join(',')}`);
    for (const [id, seed] of [['a', 1], ['b', 2]] as const) {
      const single = await runStream(client, [llmRequest(id, PROMPT, { exclude: true, sampling: { max_tokens: 8, seed } })]);
      assert.equal(concat(byId(res.messages, id)), output(single.messages[0]!.infer_response, 'text_output'));
      assert.equal(byId(res.messages, id).filter(isFinal).length, 1);
    }
  } finally {
    await postJson(`${runtime.httpUrl}/dev/faults`, { tokenLatencyMs: 1 });
  }
});

test('non-decoupled iris on ModelStreamInfer: one final response each, in request order', async () => {
  const iris = (id: string, rows: number): ModelInferRequest => ({
    model_name: 'iris', id,
    inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 4] }],
    raw_input_contents: [jsonToRaw('input', 'FP32', [rows, 4], new Array(rows * 4).fill(5))],
  });
  await postJson(`${runtime.httpUrl}/dev/faults`, { latencyBMs: 2 });
  try {
    const res = await runStream(client, [iris('big', 64), iris('small', 1), { ...iris('bad', 1), model_version: '9' }]);
    assert.deepEqual(res.messages.map((m) => m.infer_response?.id), ['big', 'small', 'bad']);
    assert.ok(isFinal(res.messages[0]!) && isFinal(res.messages[1]!));
    assert.deepEqual(res.messages[0]!.infer_response?.outputs.map((o) => o.shape), [['64', '3'], ['64', '1']]);
    assert.match(res.messages[2]!.error_message, /version 9 is not found/);
  } finally {
    await postJson(`${runtime.httpUrl}/dev/faults`, { latencyBMs: 0.05 });
  }
});

test('cancelling the stream mid-generation stops it at once and is counted', async () => {
  await postJson(`${runtime.httpUrl}/dev/faults`, { tokenLatencyMs: 20 });
  try {
    const before = (await getJson<{ models: Record<string, Record<string, number>> }>(`${runtime.httpUrl}/dev/stats`)).body.models['tiny-llm']!;
    await cancelAfter(client, llmRequest('long', PROMPT, { stream: true, sampling: { max_tokens: 1000, ignore_eos: true } }), 3);
    const statsUrl = `${runtime.httpUrl}/dev/stats`;
    const llm = async () => (await getJson<{ models: Record<string, Record<string, number>> }>(statsUrl)).body.models['tiny-llm']!;
    await waitFor(async () => (await llm())['cancelled'] === before['cancelled']! + 1, 3000, 'cancel counted in /dev/stats');
    const now = await llm();
    assert.equal(now['inFlight'], 0);
    const tokens = now['tokens']!;
    assert.ok(tokens - before['tokens']! < 30, `generation stopped early (${tokens - before['tokens']!} of 1000 tokens)`);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await llm())['tokens'], tokens, 'no tokens after the cancel');

    const stats = await unary<'ModelStatistics', object, ModelStatisticsResponse__Output>(client, 'ModelStatistics', { name: 'tiny-llm' });
    const responseStats = stats.model_stats[0]!.response_stats;
    const cancels = Object.values(responseStats).reduce((sum, r) => sum + Number(r.cancel?.count ?? 0), 0);
    assert.equal(cancels, 1);
    const cancelledAt = Object.entries(responseStats).filter(([, r]) => Number(r.cancel?.count ?? 0) > 0).map(([index]) => Number(index));
    assert.equal(cancelledAt.length, 1);
    assert.ok(cancelledAt[0]! >= 3, `cancelled at response ${cancelledAt[0]}, after the 3 the client saw`);
    assert.match((await (await fetch(`${runtime.httpUrl}/metrics`)).text()), /^nv_inference_request_failure\{model="tiny-llm",reason="CANCELED",version="1"\} 1$/m);
  } finally {
    await postJson(`${runtime.httpUrl}/dev/faults`, { tokenLatencyMs: 1 });
  }
});

test('--llm-final-response empty: the last token is not final; the flags-only final comes only when enabled', async () => {
  const empty = await spawnDevRuntime(['--models', 'tiny-llm', '--llm-final-response', 'empty', '--token-latency-ms', '1']);
  const c = inferenceClient(empty.grpcTarget);
  try {
    const enabled = await runStream(c, [llmRequest('on', PROMPT, {
      stream: true, sampling: { max_tokens: 4 }, parameters: { triton_enable_empty_final_response: { bool_param: true } },
    })]);
    assert.deepEqual(enabled.messages.map(isFinal), [false, false, false, false, true]);
    const last = enabled.messages.at(-1)!;
    assert.equal(last.error_message, '');
    assert.deepEqual(last.infer_response?.outputs, []);
    assert.deepEqual(last.infer_response?.raw_output_contents, []);
    assert.equal(last.infer_response?.id, 'on');
    assert.equal(last.infer_response?.model_name, 'tiny-llm');
    assert.equal(output(enabled.messages[3]!.infer_response, 'finish_reason'), 'length');

    const dropped = await runStream(c, [llmRequest('off', PROMPT, { stream: true, sampling: { max_tokens: 4 } })]);
    assert.equal(dropped.error, undefined, 'the stream still ends once the request is complete');
    assert.deepEqual(dropped.messages.map(isFinal), [false, false, false, false], 'no end marker at all, as with TRT-LLM');

    const whole = await runStream(c, [llmRequest('n', PROMPT, { sampling: { max_tokens: 4 } })]);
    assert.deepEqual(whole.messages.map(isFinal), [true], 'non-streaming still answers once, final');
    const stats = await unary<'ModelStatistics', object, ModelStatisticsResponse__Output>(c, 'ModelStatistics', { name: 'tiny-llm' });
    assert.equal(stats.model_stats[0]!.response_stats['4']?.empty_response?.count, '2');
  } finally {
    c.close();
    await empty.stop();
  }
});

// The dev runtime's vLLM-like OpenAI port, driven with the official openai SDK and raw fetch:
// health/version/models, the same text as gRPC tiny-llm for the same prompt, vLLM's response and
// chunk shapes, SSE framing, finish reasons and stop strings, exact usage, vLLM's error envelope,
// injected errors (status and mid-stream), readiness, cancellation on disconnect, hangs,
// crash-after, SIGTERM draining, and merging deltas while the client does not read.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, get as httpGet, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import OpenAI from 'openai';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import { SERVER_VERSION } from '../../runtimes/dev/inference-service.js';
import { countTokens } from '../../runtimes/dev/models/tiny-llm/tiny-llm-tokenizer.js';
import { ChunkStream } from '../../runtimes/dev/openai-chunk-stream.js';
import { responseHead } from '../../runtimes/dev/openai-responses.js';
import { SseStream } from '../../runtimes/dev/openai-sse.js';
import { getJson, inferenceClient, postJson, spawnDevRuntime, waitFor, type DevRuntimeExit, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';
import { llmRequest, output, runStream } from '../helpers/llm-stream.js';

let rt: SpawnedDevRuntime;
let grpcClient: GRPCInferenceServiceClient;
let client: OpenAI;

before(async () => {
  rt = await spawnDevRuntime(['--token-latency-ms', '1', '--prefill-ms-per-token', '0']);
  grpcClient = inferenceClient(rt.grpcTarget);
  client = new OpenAI({ baseURL: `${rt.openaiUrl}/v1`, apiKey: 'x', maxRetries: 0 });
});

after(async () => {
  grpcClient?.close();
  await rt?.stop();
});

type Counters = Record<'calls' | 'succeeded' | 'failed' | 'cancelled' | 'inFlight' | 'tokens', number>;

async function llmStats(): Promise<Counters> {
  return (await getJson<{ models: Record<string, Counters> }>(`${rt.httpUrl}/dev/stats`)).body.models['tiny-llm'] as Counters;
}

async function setFaults(patch: Record<string, unknown>): Promise<void> {
  const res = await postJson(`${rt.httpUrl}/dev/faults`, patch);
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

interface Raw {
  status: number;
  contentType: string | null;
  text: string;
}

async function post(path: string, body: unknown, init: RequestInit = {}): Promise<Raw> {
  const res = await fetch(`${rt.openaiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

/** `data:` payloads of an SSE body, after checking vLLM's framing byte for byte. */
function sseData(text: string): string[] {
  assert.ok(text.endsWith('data: [DONE]\n\n'), `ends with [DONE]: ${JSON.stringify(text.slice(-40))}`);
  const events = text.split('\n\n');
  assert.equal(events.pop(), '', 'every event ends with a blank line');
  for (const event of events) assert.match(event, /^data: [^\n]+$/, 'one data line per event');
  return events.map((e) => e.slice('data: '.length));
}

/** tiny-llm over gRPC ModelStreamInfer, non-streaming, prompt excluded: the generated text. */
async function grpcGenerate(prompt: string, sampling: Record<string, unknown>, via = grpcClient): Promise<string> {
  const { messages, error } = await runStream(via, [llmRequest('x', prompt, { exclude: true, sampling, returns: false })]);
  if (error !== undefined) throw error;
  const failed = messages.find((m) => m.error_message !== '');
  if (failed !== undefined) throw new Error(failed.error_message);
  const text = messages.map((m) => output(m.infer_response, 'text_output')).filter((t) => t !== undefined).at(-1);
  if (typeof text !== 'string') throw new Error('no text_output');
  return text;
}

const PROMPT = 'Write a short poem about routers.';
const CHAT: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hello, router!' },
];
const CHATML = '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello, router!<|im_end|>\n<|im_start|>assistant\n';

test('/health, /version and /v1/models answer like vLLM', async () => {
  const health = await fetch(`${rt.openaiUrl}/health`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), '');
  assert.deepEqual((await getJson(`${rt.openaiUrl}/version`)).body, { version: SERVER_VERSION });

  const models = await getJson<{ object: string; data: { created: number }[] }>(`${rt.openaiUrl}/v1/models`);
  assert.equal(models.status, 200);
  const created = models.body.data[0]?.created;
  assert.ok(Number.isInteger(created));
  assert.deepEqual(models.body, {
    object: 'list',
    data: [{ id: 'tiny-llm', object: 'model', created, owned_by: 'vllm', root: 'tiny-llm', parent: null, max_model_len: 4096, permission: [] }],
  }, 'only the vLLM-backend LLM, not iris');
  const listed = [];
  for await (const model of client.models.list()) listed.push(model.id);
  assert.deepEqual(listed, ['tiny-llm']);
});

test('the same prompt gives the same text on /v1/completions and on gRPC tiny-llm; chat renders ChatML', async () => {
  for (const sampling of [{ max_tokens: 12, seed: 7 }, { max_tokens: 200 }, { max_tokens: 30, seed: -3, stop: ' the' }]) {
    const completion = await client.completions.create({ model: 'tiny-llm', prompt: PROMPT, ...sampling });
    assert.equal(completion.choices[0]?.text, await grpcGenerate(PROMPT, sampling), JSON.stringify(sampling));
  }
  const chat = await client.chat.completions.create({ model: 'tiny-llm', messages: CHAT, max_tokens: 20, seed: 5 });
  assert.equal(chat.choices[0]?.message.content, await grpcGenerate(CHATML, { max_tokens: 20, seed: 5 }));
  assert.equal(chat.usage?.prompt_tokens, countTokens(CHATML));
  const unseeded = await client.chat.completions.create({ model: 'tiny-llm', messages: CHAT });
  assert.equal(unseeded.choices[0]?.message.content, await grpcGenerate(CHATML, { max_tokens: 1000 }), 'seeded by the ChatML prompt hash');
  assert.equal(unseeded.choices[0]?.finish_reason, 'stop', 'chat defaults to the rest of the context: the natural end comes first');
});

test('non-stream chat completion: vLLM\'s shape, exact usage, /dev/stats counts it', async () => {
  const before = await llmStats();
  const res = await post('/v1/chat/completions', { model: 'tiny-llm', messages: CHAT, max_tokens: 5, seed: 1 });
  assert.equal(res.status, 200);
  assert.match(res.contentType ?? '', /^application\/json/);
  const body = JSON.parse(res.text) as Record<string, unknown> & { choices: { message: { content: string } }[] };
  const content = body.choices[0]?.message.content as string;
  assert.match(content, /^( [a-z]+){5}$/);
  assert.match(body['id'] as string, /^chatcmpl-[0-9a-f]{32}$/);
  assert.ok(Number.isInteger(body['created']));
  assert.deepEqual(body, {
    id: body['id'],
    object: 'chat.completion',
    created: body['created'],
    model: 'tiny-llm',
    choices: [{
      index: 0,
      message: { role: 'assistant', content, refusal: null, tool_calls: [], reasoning: null },
      logprobs: null,
      finish_reason: 'length',
      stop_reason: null,
    }],
    usage: { prompt_tokens: countTokens(CHATML), completion_tokens: 5, total_tokens: countTokens(CHATML) + 5, prompt_tokens_details: null },
    prompt_logprobs: null,
  });
  const after = await llmStats();
  assert.equal(after.calls - before.calls, 1);
  assert.equal(after.succeeded - before.succeeded, 1);
  assert.equal(after.tokens - before.tokens, 5);
  assert.equal(after.inFlight, 0);

  const sdk = await client.chat.completions.create({ model: 'tiny-llm', messages: CHAT, max_tokens: 5, seed: 1 });
  assert.equal(sdk.choices[0]?.message.content, content);
  const capped = await client.chat.completions.create({ model: 'tiny-llm', messages: CHAT, max_completion_tokens: 3, max_tokens: 10 });
  assert.equal(capped.usage?.completion_tokens, 3, 'max_completion_tokens wins over max_tokens');
  assert.equal(capped.choices[0]?.finish_reason, 'length');
});

test('streamed chat through the openai SDK: role chunk, deltas, finish chunk, usage chunk; same text as non-stream', async () => {
  const whole = await client.chat.completions.create({ model: 'tiny-llm', messages: CHAT, seed: 11, max_tokens: 200 });
  const stream = await client.chat.completions.create({
    model: 'tiny-llm', messages: CHAT, seed: 11, max_tokens: 200, stream: true, stream_options: { include_usage: true },
  });
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);

  assert.ok(chunks.length >= 4);
  assert.deepEqual(chunks[0]?.choices[0]?.delta, { role: 'assistant', content: '' });
  assert.ok(chunks.every((c) => c.id === chunks[0]?.id && c.object === 'chat.completion.chunk' && c.model === 'tiny-llm'));
  const usageChunk = chunks.at(-1)!;
  assert.deepEqual(usageChunk.choices, []);
  assert.deepEqual(usageChunk.usage, { ...whole.usage });
  const choiceChunks = chunks.slice(0, -1);
  assert.ok(choiceChunks.every((c) => !('usage' in c)), 'no usage key on choice chunks (vLLM: exclude_unset)');
  assert.deepEqual(choiceChunks.map((c) => c.choices[0]?.finish_reason), [...new Array(choiceChunks.length - 1).fill(null), 'stop']);
  const text = choiceChunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  assert.equal(text, whole.choices[0]?.message.content);
  assert.equal(whole.choices[0]?.finish_reason, 'stop');

  const noUsage = await client.chat.completions.create({ model: 'tiny-llm', messages: CHAT, max_tokens: 4, stream: true });
  const plain: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const chunk of noUsage) plain.push(chunk);
  assert.equal(plain.length, 1 + 4, 'role chunk, three deltas, the last delta with finish_reason');
  assert.equal(plain.at(-1)?.choices[0]?.finish_reason, 'length');
});

test('SSE framing is vLLM\'s, byte for byte: content type, one-line data events, [DONE]', async () => {
  const whole = await client.completions.create({ model: 'tiny-llm', prompt: PROMPT, max_tokens: 8 });
  const res = await post('/v1/completions', { model: 'tiny-llm', prompt: PROMPT, max_tokens: 8, stream: true, stream_options: { include_usage: true } });
  assert.equal(res.status, 200);
  assert.equal(res.contentType, 'text/event-stream; charset=utf-8');
  const data = sseData(res.text);
  assert.equal(data.pop(), '[DONE]');
  const events = data.map((d) => JSON.parse(d) as { id: string; object: string; choices: { text: string; finish_reason: string | null }[]; usage: unknown });
  assert.ok(events.every((e) => e.object === 'text_completion' && e.id === events[0]?.id));
  assert.match(events[0]!.id, /^cmpl-[0-9a-f]{32}$/);
  const last = events.pop()!;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, { prompt_tokens: countTokens(PROMPT), completion_tokens: 8, total_tokens: countTokens(PROMPT) + 8, prompt_tokens_details: null });
  assert.ok(events.every((e) => e.usage === null), 'completion chunks carry usage: null');
  assert.equal(events.length, 8);
  assert.equal(events.map((e) => e.choices[0]?.text).join(''), whole.choices[0]?.text);
  assert.equal(events.at(-1)?.choices[0]?.finish_reason, 'length');
  assert.deepEqual(events.slice(0, -1).map((e) => e.choices[0]?.finish_reason), new Array(7).fill(null));
});

test('finish reasons: "length" at max_tokens (completions default 16), stop strings cut or kept, ignore_eos', async () => {
  const dflt = await client.completions.create({ model: 'tiny-llm', prompt: PROMPT });
  assert.equal(dflt.choices[0]?.finish_reason, 'length');
  assert.equal(dflt.usage?.completion_tokens, 16);

  const full = (await client.completions.create({ model: 'tiny-llm', prompt: PROMPT, max_tokens: 200 })).choices[0]!;
  assert.equal(full.finish_reason, 'stop', 'the natural end (24..64 tokens)');
  const stopWord = ` ${full.text.split(' ').filter(Boolean)[5]}`;
  const cut = full.text.slice(0, full.text.indexOf(stopWord));
  for (const stop of [stopWord, [stopWord, 'never generated']]) {
    const res = await client.completions.create({ model: 'tiny-llm', prompt: PROMPT, max_tokens: 200, stop });
    assert.equal(res.choices[0]?.text, cut, JSON.stringify(stop));
    assert.equal(res.choices[0]?.finish_reason, 'stop');
  }
  const kept = await client.completions.create({ model: 'tiny-llm', prompt: PROMPT, max_tokens: 200, stop: stopWord, include_stop_str_in_output: true } as OpenAI.CompletionCreateParamsNonStreaming);
  assert.equal(kept.choices[0]?.text, cut + stopWord);

  const stream = await client.completions.create({ model: 'tiny-llm', prompt: PROMPT, max_tokens: 200, stop: stopWord, stream: true });
  let streamed = '';
  let reason: string | null = null;
  for await (const chunk of stream) {
    streamed += chunk.choices[0]?.text ?? '';
    reason = chunk.choices[0]?.finish_reason ?? reason;
  }
  assert.equal(streamed, cut, 'held-back text never leaks a stop string');
  assert.equal(reason, 'stop');

  const long = await client.completions.create({ model: 'tiny-llm', prompt: PROMPT, max_tokens: 100, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
  assert.equal(long.usage?.completion_tokens, 100);
  assert.equal(long.choices[0]?.finish_reason, 'length');
  assert.ok(long.choices[0]?.text.startsWith(full.text), 'ignore_eos continues past the natural end');
});

test('chat content parts are joined with no separator; a one-string prompt list is the string', async () => {
  const parts = await client.chat.completions.create({
    model: 'tiny-llm',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello, ' }, { type: 'text', text: 'router!' }] }],
    max_tokens: 10,
  });
  const plain = await client.chat.completions.create({ model: 'tiny-llm', messages: [{ role: 'user', content: 'Hello, router!' }], max_tokens: 10 });
  assert.equal(parts.choices[0]?.message.content, plain.choices[0]?.message.content);
  const listed = await client.completions.create({ model: 'tiny-llm', prompt: [PROMPT], max_tokens: 6 });
  const single = await client.completions.create({ model: 'tiny-llm', prompt: PROMPT, max_tokens: 6 });
  assert.equal(listed.choices[0]?.text, single.choices[0]?.text);
});

test('errors: vLLM\'s envelope with status, type, param and integer code; nothing reaches the model', async () => {
  const before = await llmStats();
  const notFound = await post('/v1/chat/completions', { model: 'x', messages: CHAT });
  assert.equal(notFound.status, 404);
  assert.deepEqual(JSON.parse(notFound.text), { error: { message: 'The model `x` does not exist.', type: 'NotFoundError', param: 'model', code: 404 } });

  const cases: [string, unknown, string | null][] = [
    ['/v1/chat/completions', { model: 'tiny-llm', messages: CHAT, n: 2 }, 'n'],
    ['/v1/chat/completions', { model: 'tiny-llm', messages: CHAT, top_p: 0 }, 'top_p'],
    ['/v1/chat/completions', { model: 'tiny-llm', messages: CHAT, temperature: -1 }, 'temperature'],
    ['/v1/chat/completions', { model: 'tiny-llm', messages: CHAT, min_tokens: 9, max_tokens: 3 }, 'min_tokens'],
    ['/v1/chat/completions', { model: 'tiny-llm', messages: CHAT, presence_penalty: 3 }, 'presence_penalty'],
    ['/v1/chat/completions', { model: 'tiny-llm', messages: CHAT, stream_options: { include_usage: true } }, 'stream_options'],
    ['/v1/chat/completions', { model: 'tiny-llm', messages: [] }, 'messages'],
    ['/v1/chat/completions', { model: 'tiny-llm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages'],
    ['/v1/chat/completions', { model: 'tiny-llm', messages: CHAT, logprobs: true }, 'logprobs'],
    ['/v1/chat/completions', { model: 'tiny-llm', messages: CHAT, max_tokens: 5000 }, 'max_tokens'],
    ['/v1/completions', { model: 'tiny-llm', prompt: 'word '.repeat(4100) }, 'input_tokens'],
    ['/v1/completions', { model: 'tiny-llm', prompt: '' }, 'prompt'],
    ['/v1/completions', { model: 'tiny-llm', prompt: PROMPT, max_tokens: 0 }, 'max_tokens'],
    ['/v1/completions', '{"model": "tiny-llm", "prompt": ', null],
  ];
  for (const [path, body, param] of cases) {
    const res = await post(path, body);
    assert.equal(res.status, 400, `${path} ${res.text}`);
    const { error } = JSON.parse(res.text) as { error: { message: string; type: string; param: string | null; code: number } };
    assert.equal(error.type, 'BadRequestError');
    assert.equal(error.code, 400);
    assert.equal(error.param, param, error.message);
    assert.ok(error.message.length > 0);
  }
  assert.equal(JSON.parse((await post('/v1/chat/completions', { model: 'tiny-llm', messages: CHAT, max_tokens: 5000 })).text).error.message,
    `'max_tokens' or 'max_completion_tokens' is too large: 5000. This model's maximum context length is 4096 tokens and your request has ${countTokens(CHATML)} input tokens (5000 > 4096 - ${countTokens(CHATML)}).`);

  await assert.rejects(client.chat.completions.create({ model: 'nope', messages: CHAT }), (err: unknown) => {
    assert.ok(err instanceof OpenAI.NotFoundError);
    assert.equal(err.status, 404);
    assert.equal(err.param, 'model');
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'tiny-llm', messages: CHAT, n: 3 }), OpenAI.BadRequestError);
  assert.deepEqual(await llmStats(), before, 'rejected before the model: no call counted');
});

test('injected errors: 500 InternalServerError when not streaming; an error event then [DONE] mid-stream', async () => {
  await setFaults({ errorRate: 1 });
  try {
    const before = await llmStats();
    const plain = await post('/v1/completions', { model: 'tiny-llm', prompt: PROMPT });
    assert.equal(plain.status, 500);
    assert.deepEqual(JSON.parse(plain.text), { error: { message: 'injected fault', type: 'InternalServerError', param: null, code: 500 } });

    const streamed = await post('/v1/chat/completions', { model: 'tiny-llm', messages: CHAT, stream: true });
    assert.equal(streamed.status, 200, 'the headers went out before the fault');
    assert.equal(streamed.text, 'data: {"error":{"message":"injected fault","type":"InternalServerError","param":null,"code":500}}\n\ndata: [DONE]\n\n');

    await assert.rejects(client.completions.create({ model: 'tiny-llm', prompt: PROMPT }), OpenAI.InternalServerError);
    const stream = await client.chat.completions.create({ model: 'tiny-llm', messages: CHAT, stream: true });
    await assert.rejects(async () => {
      for await (const chunk of stream) assert.fail(`unexpected chunk ${JSON.stringify(chunk)}`);
    }, (err: unknown) => err instanceof OpenAI.APIError && /injected fault/.test(err.message));
    const after = await llmStats();
    assert.equal(after.calls - before.calls, 4);
    assert.equal(after.failed - before.failed, 4);
    assert.equal(after.inFlight, 0);
  } finally {
    await setFaults({ errorRate: 0 });
  }
});

test('readiness: /health 503 and requests 503 while /dev/faults says ready:false', async () => {
  await setFaults({ ready: false });
  try {
    assert.equal((await fetch(`${rt.openaiUrl}/health`)).status, 503);
    const res = await post('/v1/chat/completions', { model: 'tiny-llm', messages: CHAT });
    assert.equal(res.status, 503);
    assert.equal(JSON.parse(res.text).error.type, 'ServiceUnavailableError');
  } finally {
    await setFaults({ ready: true });
  }
  assert.equal((await fetch(`${rt.openaiUrl}/health`)).status, 200);
  assert.equal((await post('/v1/completions', { model: 'tiny-llm', prompt: PROMPT, max_tokens: 2 })).status, 200);
});

test('a client that goes away cancels the generation at once (stream and non-stream)', async () => {
  await setFaults({ tokenLatencyMs: 20 });
  try {
    const before = await llmStats();
    const stream = await client.chat.completions.create({
      model: 'tiny-llm', messages: CHAT, max_tokens: 2000, ignore_eos: true, stream: true,
    } as OpenAI.Chat.ChatCompletionCreateParamsStreaming);
    let contentChunks = 0;
    for await (const chunk of stream) {
      if ((chunk.choices[0]?.delta.content ?? '') !== '') contentChunks++;
      if (contentChunks === 1) break;
    }
    await waitFor(async () => {
      const s = await llmStats();
      return s.cancelled === before.cancelled + 1 && s.inFlight === 0;
    }, 5000, 'the abandoned stream counted as cancelled');
    const tokensAfterCancel = (await llmStats()).tokens;
    assert.ok(tokensAfterCancel - before.tokens < 2000, 'generation stopped early');

    const controller = new AbortController();
    const pending = post('/v1/completions', { model: 'tiny-llm', prompt: PROMPT, max_tokens: 2000, ignore_eos: true }, { signal: controller.signal });
    await waitFor(async () => (await llmStats()).inFlight === 1, 5000, 'the request in flight');
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await waitFor(async () => {
      const s = await llmStats();
      return s.cancelled === before.cancelled + 2 && s.inFlight === 0;
    }, 5000, 'the abandoned request counted as cancelled');
    const after = await llmStats();
    assert.equal(after.succeeded, before.succeeded);
    assert.equal(after.failed, before.failed);
  } finally {
    await setFaults({ tokenLatencyMs: 1 });
  }
});

test('hang fault: no answer until the client goes away, then counted as cancelled', async () => {
  await setFaults({ hangRate: 1 });
  try {
    const before = await llmStats();
    for (const stream of [false, true]) {
      const controller = new AbortController();
      let settled = false;
      const pending = fetch(`${rt.openaiUrl}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'tiny-llm', prompt: PROMPT, stream }),
        signal: controller.signal,
      }).then(async (res) => {
        settled = true;
        await res.text(); // a streamed hang sends headers, then nothing: this waits for the abort
      });
      await waitFor(async () => (await llmStats()).inFlight === 1, 5000, 'the hung request in flight');
      if (stream) await waitFor(() => settled, 5000, 'a stream has its headers');
      else assert.equal(settled, false, 'a plain request has no answer at all');
      controller.abort();
      await assert.rejects(pending, { name: 'AbortError' });
    }
    await waitFor(async () => {
      const s = await llmStats();
      return s.cancelled === before.cancelled + 2 && s.inFlight === 0;
    }, 5000, 'both hung requests counted as cancelled');
  } finally {
    await setFaults({ hangRate: 0 });
  }
});

test('crash-after counts OpenAI requests like gRPC ones', async () => {
  const crashing = await spawnDevRuntime(['--crash-after', '3', '--token-latency-ms', '1']);
  const grpcToCrashing = inferenceClient(crashing.grpcTarget);
  try {
    const sdk = new OpenAI({ baseURL: `${crashing.openaiUrl}/v1`, apiKey: 'x', maxRetries: 0 });
    assert.match(await grpcGenerate(PROMPT, { max_tokens: 2 }, grpcToCrashing), /^( [a-z]+){2}$/, 'call 1 (gRPC)');
    const second = await sdk.completions.create({ model: 'tiny-llm', prompt: PROMPT, max_tokens: 2 });
    assert.equal(second.usage?.completion_tokens, 2, 'call 2 (OpenAI)');
    await assert.rejects(sdk.completions.create({ model: 'tiny-llm', prompt: PROMPT, max_tokens: 2 }), OpenAI.APIConnectionError, 'call 3 crashes');
    assert.deepEqual(await crashing.exited, { code: 70, signal: null });
  } finally {
    grpcToCrashing.close();
    await crashing.stop();
  }
});

test('SIGTERM lets an in-flight stream finish, then exits 0', async () => {
  const draining = await spawnDevRuntime(['--token-latency-ms', '5']);
  try {
    const sdk = new OpenAI({ baseURL: `${draining.openaiUrl}/v1`, apiKey: 'x', maxRetries: 0 });
    const stream = await sdk.completions.create({
      model: 'tiny-llm', prompt: PROMPT, max_tokens: 60, ignore_eos: true, stream: true, stream_options: { include_usage: true },
    } as OpenAI.CompletionCreateParamsStreaming);
    let exit: Promise<DevRuntimeExit> | undefined;
    let reason: string | null = null;
    let completionTokens: number | undefined;
    for await (const chunk of stream) {
      exit ??= draining.stop(); // SIGTERM after the first chunk
      reason = chunk.choices[0]?.finish_reason ?? reason;
      completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
    }
    assert.equal(reason, 'length');
    assert.equal(completionTokens, 60, 'the whole generation went out');
    assert.deepEqual(await exit, { code: 0, signal: null });
  } finally {
    await draining.stop();
  }
});

test('backpressure: while the client does not read, deltas merge into fewer chunks and no text is lost', async () => {
  const DELTAS = 200;
  const delta = (i: number) => `${String(i).padStart(4, '0')}${'x'.repeat(128 * 1024)}`; // 25 MiB in all: more than socket buffers hold
  let produced!: () => void;
  const allProduced = new Promise<void>((resolve) => (produced = resolve));
  const server = createServer((_req, res) => {
    void (async () => {
      const sse = new SseStream(res);
      sse.open();
      const chunks = new ChunkStream(sse, responseHead('completion', 'tiny-llm'), false);
      for (let i = 0; i < DELTAS; i++) {
        chunks.delta(delta(i), i === DELTAS - 1);
        await nextTurn();
      }
      produced();
      chunks.finish({ finishReason: 'length', promptTokens: 1, completionTokens: DELTAS });
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const res = await new Promise<IncomingMessage>((resolve) => httpGet(`http://127.0.0.1:${port}/`, resolve));
    await allProduced; // nothing read so far: the socket backed up long before the last delta
    res.setEncoding('utf8');
    let text = '';
    for await (const part of res) text += part as string;
    const data = sseData(text);
    assert.equal(data.pop(), '[DONE]');
    const events = data.map((d) => JSON.parse(d) as { choices: { text: string; finish_reason: string | null }[] });
    assert.equal(events.map((e) => e.choices[0]?.text).join(''), Array.from({ length: DELTAS }, (_, i) => delta(i)).join(''));
    assert.equal(events.at(-1)?.choices[0]?.finish_reason, 'length');
    assert.ok(events.length < DELTAS, `merged while backed up: ${events.length} events for ${DELTAS} deltas`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

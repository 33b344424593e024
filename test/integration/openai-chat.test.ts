// OpenAI chat and completions through the real router to the real dev runtime, with the official
// openai SDK as the client: Triton ModelStreamInfer with both tensor profiles (vllm-backend,
// trtllm-ensemble) and a vLLM-like OpenAI HTTP server. The expected text comes from running the
// dev runtime's generator directly, so every path is checked against an independent answer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { countTokens } from '../../runtimes/dev/models/tiny-llm/tiny-llm-tokenizer.js';
import { TinyLlmGeneration } from '../../runtimes/dev/models/tiny-llm/tiny-llm-generator.js';
import { spawnDevRuntime, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';
import { postJson, request } from '../helpers/http.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { llmConfig } from '../helpers/llm-config.js';

const LLM_MODELS = ['tiny-llm', 'tiny-llm-trt', 'tiny-llm-vllm'] as const;

/** The ChatML prompt the router's default template (and the dev runtime's vLLM-like server) renders. */
function chatml(messages: Array<{ role: string; content: string }>): string {
  return `${messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('')}<|im_start|>assistant\n`;
}

interface Expected {
  text: string;
  finishReason: string;
  promptTokens: number;
  completionTokens: number;
}

/** What the generator produces for a prompt: the independent answer every path must give. */
function expected(prompt: string, options: { maxTokens: number; stop?: string[]; seed?: number }): Expected {
  const generation = new TinyLlmGeneration(prompt, { maxTokens: options.maxTokens, stop: options.stop ?? [], seed: options.seed });
  while (!generation.finished) generation.step();
  return { text: generation.text, finishReason: generation.finishReason ?? 'none', promptTokens: countTokens(prompt), completionTokens: generation.tokens };
}

const MESSAGES = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Name three rivers.' },
];

describe('OpenAI API through the router', () => {
  let runtime: SpawnedDevRuntime;
  let router: RunningRouter;
  let client: OpenAI;

  before(async () => {
    runtime = await spawnDevRuntime(['--models', 'iris,tiny-llm,tiny-llm-trt', '--token-latency-ms', '1']);
    router = await startRouter(llmConfig(runtime));
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await router?.stop();
    await runtime?.stop();
  });

  for (const model of LLM_MODELS) {
    test(`${model}: non-stream chat gives the generator's text, finish_reason and exact usage`, async () => {
      const want = expected(chatml(MESSAGES), { maxTokens: 64, seed: 7 });
      const res = await client.chat.completions.create({ model, messages: MESSAGES, seed: 7 });
      assert.equal(res.object, 'chat.completion');
      assert.equal(res.model, model);
      assert.match(res.id, /^chatcmpl-/);
      assert.equal(res.choices.length, 1);
      assert.equal(res.choices[0]?.message.role, 'assistant');
      assert.equal(res.choices[0]?.message.content, want.text);
      assert.equal(res.choices[0]?.finish_reason, want.finishReason);
      assert.deepEqual(
        { prompt: res.usage?.prompt_tokens, completion: res.usage?.completion_tokens, total: res.usage?.total_tokens },
        { prompt: want.promptTokens, completion: want.completionTokens, total: want.promptTokens + want.completionTokens },
      );
    });

    test(`${model}: streamed chunks rebuild the same text, then finish_reason, usage and the end`, async () => {
      const want = expected(chatml(MESSAGES), { maxTokens: 64, seed: 11 });
      const stream = await client.chat.completions.create({
        model,
        messages: MESSAGES,
        seed: 11,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      const roles: string[] = [];
      const finishReasons: string[] = [];
      let usage: OpenAI.CompletionUsage | null | undefined;
      let chunks = 0;
      const ids = new Set<string>();
      for await (const chunk of stream) {
        chunks++;
        ids.add(chunk.id);
        assert.equal(chunk.object, 'chat.completion.chunk');
        assert.equal(chunk.model, model);
        if (chunk.usage) usage = chunk.usage;
        for (const choice of chunk.choices) {
          if (choice.delta.role) roles.push(choice.delta.role);
          text += choice.delta.content ?? '';
          if (choice.finish_reason) finishReasons.push(choice.finish_reason);
        }
      }
      assert.equal(ids.size, 1, 'one id for every chunk');
      assert.deepEqual(roles, ['assistant']);
      assert.equal(text, want.text);
      assert.deepEqual(finishReasons, [want.finishReason]);
      assert.ok(chunks >= 3, `role, content and finish chunks (got ${chunks})`);
      assert.equal(usage?.prompt_tokens, want.promptTokens);
      assert.equal(usage?.completion_tokens, want.completionTokens);
    });

    test(`${model}: max_tokens ends with "length"; a stop string ends with "stop" and is cut`, async () => {
      const length = await client.chat.completions.create({ model, messages: MESSAGES, seed: 3, max_tokens: 5 });
      const cut = expected(chatml(MESSAGES), { maxTokens: 5, seed: 3 });
      assert.equal(length.choices[0]?.finish_reason, 'length');
      assert.equal(length.choices[0]?.message.content, cut.text);
      assert.equal(length.usage?.completion_tokens, 5);

      // A stop string taken from the middle of the natural text, so it really occurs.
      const full = expected(chatml(MESSAGES), { maxTokens: 64, seed: 3 });
      const words = full.text.split(' ').filter(Boolean);
      const stop = ` ${words[Math.floor(words.length / 2)]}`;
      const want = expected(chatml(MESSAGES), { maxTokens: 64, seed: 3, stop: [stop] });
      assert.ok(want.text.length < full.text.length);

      const stopped = await client.chat.completions.create({ model, messages: MESSAGES, seed: 3, stop: [stop] });
      assert.equal(stopped.choices[0]?.finish_reason, 'stop');
      assert.equal(stopped.choices[0]?.message.content, want.text);
      assert.equal(stopped.usage?.completion_tokens, want.completionTokens);

      let streamed = '';
      const stream = await client.chat.completions.create({ model, messages: MESSAGES, seed: 3, stop: stop, stream: true });
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
      assert.equal(streamed, want.text);
    });

    test(`${model}: legacy completions, stream and not, with the prompt used verbatim`, async () => {
      const prompt = 'Once upon a time';
      const want = expected(prompt, { maxTokens: 16, seed: 5 });
      const res = await client.completions.create({ model, prompt, seed: 5 });
      assert.equal(res.object, 'text_completion');
      assert.equal(res.choices[0]?.text, want.text);
      assert.equal(res.choices[0]?.finish_reason, want.finishReason);
      assert.equal(res.usage?.prompt_tokens, want.promptTokens);

      let text = '';
      const stream = await client.completions.create({ model, prompt, seed: 5, stream: true });
      for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
      assert.equal(text, want.text);
    });
  }

  test('unknown model → NotFoundError; a model that does not generate text → BadRequestError on model', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'nope', messages: MESSAGES }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError, String(err));
      assert.match(err.message, /nope/);
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: 'iris', messages: MESSAGES }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.equal(err.param, 'model');
      return true;
    });
  });

  test('bad parameters → BadRequestError with param set, for every backend kind', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['temperature', { temperature: 5 }],
      ['top_p', { top_p: -1 }],
      ['n', { n: 2 }],
      ['max_tokens', { max_tokens: 0 }],
      ['stream_options', { stream_options: { include_usage: true } }],
      ['messages', { messages: [] }],
    ];
    for (const model of LLM_MODELS) {
      for (const [param, extra] of cases) {
        const body = { model, messages: MESSAGES, ...extra } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
        await assert.rejects(client.chat.completions.create(body), (err: unknown) => {
          assert.ok(err instanceof OpenAI.BadRequestError, `${model} ${param}: ${String(err)}`);
          assert.equal(err.param, param, `${model} ${param}`);
          return true;
        });
      }
    }
  });

  test('errors are OpenAI envelopes with x-request-id; malformed JSON is a 400 naming the body', async () => {
    const res = await request(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' },
      body: '{"model":',
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-request-id'), 'req-42');
    assert.equal(res.body.error.type, 'invalid_request_error');
    assert.equal(typeof res.body.error.message, 'string');
    assert.ok('param' in res.body.error && 'code' in res.body.error);

    const missing = await request(`${router.url}/v1/nothing-here`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.type, 'not_found_error');
  });

  test('/v1/models lists the text-generation models; /v1/models/{id} takes ids with a slash', async () => {
    const list = await client.models.list();
    assert.deepEqual(list.data.map((m) => m.id).sort(), ['org/chat-model', ...LLM_MODELS].sort());
    for (const m of list.data) assert.equal(m.object, 'model');
    const one = await client.models.retrieve('org/chat-model');
    assert.equal(one.id, 'org/chat-model');
    await assert.rejects(client.models.retrieve('iris'), OpenAI.NotFoundError);
  });

  test('a routed alias answers with the client model name on every path', async () => {
    const res = await client.chat.completions.create({ model: 'org/chat-model', messages: MESSAGES, seed: 1, max_tokens: 3 });
    assert.equal(res.model, 'org/chat-model');
    // The vLLM-like upstream calls itself tiny-llm; relayed chunks carry the client's name.
    const stream = await client.chat.completions.create({ model: 'tiny-llm-vllm', messages: MESSAGES, max_tokens: 3, stream: true });
    for await (const chunk of stream) assert.equal(chunk.model, 'tiny-llm-vllm');
  });

  test('raw SSE framing is byte-exact on a short stream', async () => {
    const want = expected(chatml(MESSAGES), { maxTokens: 2, seed: 9 });
    const res = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-llm', messages: MESSAGES, seed: 9, max_tokens: 2, stream: true }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform');
    const body = await res.text();
    const first = JSON.parse(body.slice('data: '.length, body.indexOf('\n\n'))) as { id: string; created: number };
    const head = `{"id":"${first.id}","object":"chat.completion.chunk","created":${first.created},"model":"tiny-llm","choices":[{"index":0,`;
    const words = want.text.split(/(?= )/);
    assert.equal(words.length, 2);
    const expectedBody =
      `data: ${head}"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n` +
      words.map((w) => `data: ${head}"delta":{"content":${JSON.stringify(w)}},"logprobs":null,"finish_reason":null}]}\n\n`).join('') +
      `data: ${head}"delta":{},"logprobs":null,"finish_reason":"length"}]}\n\n` +
      'data: [DONE]\n\n';
    assert.equal(body, expectedBody);
  });

  test('the KServe V2 side of an OpenAI-HTTP model says where to go instead', async () => {
    const res = await postJson(`${router.url}/v2/models/tiny-llm-vllm/infer`, { inputs: [] });
    assert.equal(res.status, 501);
    assert.match(res.body.error, /\/v1\/chat\/completions/);
  });
});

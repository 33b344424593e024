import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SwitchyardError } from '../../../../router/core/errors.js';
import type { LlmRequest } from '../../../../router/core/llm.js';
import { parseCompletionRequest } from '../../../../router/listeners/openai/completion-request.js';
import type { OpenAiLimits } from '../../../../router/listeners/openai/sampling-fields.js';

const LIMITS: OpenAiLimits = { defaultMaxTokens: 256, maxTokens: 1024, maxMessages: 4, maxPromptChars: 100 };
const BASE = { model: 'llama', prompt: 'Once upon a time' };

function body(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ ...BASE, ...patch })) as Record<string, unknown>;
}

const BAD: Array<{ name: string; body: Record<string, unknown>; param: string; message: string }> = [
  // prompt
  { name: 'prompt missing', body: body({ prompt: undefined }), param: 'prompt', message: "'prompt' is required" },
  { name: 'prompt null', body: body({ prompt: null }), param: 'prompt', message: "'prompt' is required" },
  { name: 'prompt empty', body: body({ prompt: '' }), param: 'prompt', message: "'prompt' must not be empty" },
  { name: 'prompt an empty array', body: body({ prompt: [] }), param: 'prompt', message: 'must not be an empty array' },
  { name: 'prompt an array holding an empty string', body: body({ prompt: [''] }), param: 'prompt', message: 'must not be empty' },
  { name: 'prompt token ids', body: body({ prompt: [1, 2, 3] }), param: 'prompt', message: 'token-id prompts are not supported' },
  { name: 'prompt batched token ids', body: body({ prompt: [[1, 2], [3]] }), param: 'prompt', message: 'token-id prompts are not supported' },
  { name: 'several prompts', body: body({ prompt: ['a', 'b'] }), param: 'prompt', message: 'holds 2 prompts; several prompts in one request are not supported' },
  { name: 'prompt an array of an object', body: body({ prompt: [{}] }), param: 'prompt', message: 'must be a string or an array of one string, got an array of an object' },
  { name: 'prompt a number', body: body({ prompt: 5 }), param: 'prompt', message: 'must be a string or an array of one string, got 5' },
  { name: 'prompt above maxPromptChars', body: body({ prompt: 'x'.repeat(101) }), param: 'prompt', message: "is 101 characters, above this model's limit of 100" },
  // completion-only unsupported features
  { name: 'logprobs', body: body({ logprobs: 1 }), param: 'logprobs', message: "'logprobs' is not supported" },
  { name: 'logprobs a boolean', body: body({ logprobs: true }), param: 'logprobs', message: 'must be an integer, got true' },
  { name: 'logprobs above 5', body: body({ logprobs: 6 }), param: 'logprobs', message: 'must be between 0 and 5, got 6' },
  { name: 'echo', body: body({ echo: true }), param: 'echo', message: "'echo' true is not supported" },
  { name: 'echo not a boolean', body: body({ echo: 'yes' }), param: 'echo', message: 'must be a boolean, got a string' },
  { name: 'suffix', body: body({ suffix: ' The end.' }), param: 'suffix', message: "'suffix' is not supported" },
  { name: 'suffix not a string', body: body({ suffix: 5 }), param: 'suffix', message: 'must be a string, got 5' },
  { name: 'best_of above 1', body: body({ best_of: 2 }), param: 'best_of', message: 'best_of > 1 is not supported' },
  { name: 'best_of fractional', body: body({ best_of: 1.5 }), param: 'best_of', message: 'must be an integer, got 1.5' },
  { name: 'best_of negative', body: body({ best_of: -1 }), param: 'best_of', message: 'must be between 0 and 20, got -1' },
  // shared fields are wired in (their full table is in chat-request.test.ts)
  { name: 'model missing', body: body({ model: undefined }), param: 'model', message: "'model' is required" },
  { name: 'max_tokens above the limit', body: body({ max_tokens: 1025 }), param: 'max_tokens', message: "must be at most 1024 (this model's limit), got 1025" },
  { name: 'temperature above 2', body: body({ temperature: 3 }), param: 'temperature', message: 'must be between 0 and 2, got 3' },
  { name: 'stream_options without stream', body: body({ stream_options: { include_usage: true } }), param: 'stream_options', message: 'is only allowed with stream: true' },
  { name: 'n above 1', body: body({ n: 3 }), param: 'n', message: 'n > 1 is not supported' },
  { name: 'stop five strings', body: body({ stop: ['a', 'b', 'c', 'd', 'e'] }), param: 'stop', message: 'must hold 1 to 4 strings, got 5' },
  { name: 'logit_bias', body: body({ logit_bias: { '1': 5 } }), param: 'logit_bias', message: 'is not supported' },
  { name: 'min_tokens above the default 16', body: body({ min_tokens: 17 }), param: 'min_tokens', message: "must not exceed the request's max tokens (16), got 17" },
  // chat-only fields are unknown here
  { name: 'max_completion_tokens', body: body({ max_completion_tokens: 10 }), param: 'max_completion_tokens', message: "unrecognized request field 'max_completion_tokens'" },
  { name: 'messages', body: body({ messages: [] }), param: 'messages', message: "unrecognized request field 'messages'" },
  { name: 'tools', body: body({ tools: [] }), param: 'tools', message: "unrecognized request field 'tools'" },
  { name: 'top_logprobs', body: body({ top_logprobs: 1 }), param: 'top_logprobs', message: "unrecognized request field 'top_logprobs'" },
  { name: 'a typo', body: body({ max_token: 10 }), param: 'max_token', message: "unrecognized request field 'max_token'" },
];

for (const c of BAD) {
  test(`rejects ${c.name}`, () => {
    assert.throws(() => parseCompletionRequest(c.body, LIMITS), (err: unknown) => {
      assert.ok(err instanceof SwitchyardError, String(err));
      assert.equal(err.code, 'SWY_ERR_INPUT_INVALID_FIELD');
      assert.equal(err.httpStatus, 400);
      assert.equal(err.param, c.param);
      assert.ok(err.message.includes(c.message), `"${err.message}" should contain "${c.message}"`);
      return true;
    });
  });
}

test('a minimal request gets OpenAI\'s default of 16 tokens', () => {
  const b = body();
  const request = parseCompletionRequest(b, LIMITS);
  assert.deepEqual(request, {
    kind: 'completion',
    model: 'llama',
    prompt: 'Once upon a time',
    sampling: { maxTokens: 16, stop: [] },
    stream: false,
    includeUsage: false,
    body: b,
  } satisfies LlmRequest);
  assert.equal(request.body, b);
});

test('a one-string array prompt, streaming, sampling and neutral values', () => {
  const b = body({
    prompt: ['Once'],
    stream: true,
    stream_options: { include_usage: false },
    max_tokens: 64,
    temperature: 0,
    top_p: 1,
    frequency_penalty: -1,
    presence_penalty: 1,
    n: 1,
    stop: ['\n\n', 'END'],
    seed: 7,
    top_k: -1,
    repetition_penalty: 1.2,
    min_tokens: 64,
    ignore_eos: false,
    logprobs: 0,
    echo: false,
    suffix: '',
    best_of: 1,
    logit_bias: {},
    user: 'u',
  });
  assert.deepEqual(parseCompletionRequest(b, LIMITS), {
    kind: 'completion',
    model: 'llama',
    prompt: 'Once',
    sampling: {
      maxTokens: 64,
      temperature: 0,
      topP: 1,
      frequencyPenalty: -1,
      presencePenalty: 1,
      stop: ['\n\n', 'END'],
      seed: 7,
      repetitionPenalty: 1.2,
      minTokens: 64,
      ignoreEos: false,
    },
    stream: true,
    includeUsage: false,
    body: b,
  } satisfies LlmRequest);
});

test('null means absent for every optional field', () => {
  const nullable = ['stream', 'stream_options', 'max_tokens', 'temperature', 'n', 'stop', 'seed', 'logprobs', 'echo', 'suffix', 'best_of', 'logit_bias'];
  const request = parseCompletionRequest(body(Object.fromEntries(nullable.map((field) => [field, null]))), LIMITS);
  assert.deepEqual(request.sampling, { maxTokens: 16, stop: [] });
});

test('the default of 16 never exceeds the limit, and a prompt of exactly maxPromptChars passes', () => {
  assert.equal(parseCompletionRequest(body(), { ...LIMITS, maxTokens: 8 }).sampling.maxTokens, 8);
  assert.equal(parseCompletionRequest(body({ prompt: 'x'.repeat(100) }), LIMITS).prompt?.length, 100);
});

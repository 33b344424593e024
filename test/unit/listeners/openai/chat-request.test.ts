import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SwitchyardError, type ErrorCode } from '../../../../router/core/errors.js';
import type { LlmRequest } from '../../../../router/core/llm.js';
import { parseChatRequest } from '../../../../router/listeners/openai/chat-request.js';
import { IGNORED_FIELDS, type OpenAiLimits } from '../../../../router/listeners/openai/sampling-fields.js';

const LIMITS: OpenAiLimits = { defaultMaxTokens: 256, maxTokens: 1024, maxMessages: 4, maxPromptChars: 100 };
const USER = { role: 'user', content: 'hi' };
const BASE = { model: 'llama', messages: [USER] };

/** BASE with `patch` applied, through JSON so undefined drops a field and the shape is what a client can send. */
function body(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ ...BASE, ...patch })) as Record<string, unknown>;
}

function withMessages(...messages: unknown[]): Record<string, unknown> {
  return body({ messages });
}

interface BadCase {
  readonly name: string;
  readonly body: Record<string, unknown>;
  readonly param: string;
  readonly message: string;
}

const BAD: BadCase[] = [
  // model
  { name: 'model missing', body: body({ model: undefined }), param: 'model', message: "'model' is required" },
  { name: 'model not a string', body: body({ model: 5 }), param: 'model', message: "'model' must be a string, got 5" },
  { name: 'model empty', body: body({ model: '' }), param: 'model', message: "'model' must not be empty" },
  // messages
  { name: 'messages missing', body: body({ messages: undefined }), param: 'messages', message: "'messages' is required" },
  { name: 'messages null', body: body({ messages: null }), param: 'messages', message: "'messages' is required" },
  { name: 'messages not an array', body: body({ messages: 'hi' }), param: 'messages', message: "'messages' must be an array, got a string" },
  { name: 'messages empty', body: body({ messages: [] }), param: 'messages', message: 'at least one message' },
  { name: 'messages above maxMessages', body: withMessages(USER, USER, USER, USER, USER), param: 'messages', message: "holds 5 messages, above this model's limit of 4" },
  { name: 'content above maxPromptChars', body: withMessages({ role: 'system', content: 'x'.repeat(60) }, { role: 'user', content: 'y'.repeat(41) }), param: 'messages', message: "content totals 101 characters, above this model's limit of 100" },
  { name: 'message not an object', body: withMessages('hi'), param: 'messages[0]', message: "'messages[0]' must be an object, got a string" },
  { name: 'role missing', body: withMessages({ content: 'hi' }), param: 'messages[0].role', message: "'messages[0].role' is required" },
  { name: 'role not a string', body: withMessages(USER, { role: 7, content: 'hi' }), param: 'messages[1].role', message: "'messages[1].role' must be a string, got 7" },
  { name: 'role function', body: withMessages({ role: 'function', name: 'f', content: 'x' }), param: 'messages[0].role', message: "'function' is not supported" },
  { name: 'role unknown', body: withMessages({ role: 'bot', content: 'hi' }), param: 'messages[0].role', message: "must be one of system, developer, user, assistant, tool, got 'bot'" },
  { name: 'name not a string', body: withMessages({ role: 'user', content: 'hi', name: 5 }), param: 'messages[0].name', message: "'messages[0].name' must be a string, got 5" },
  // content
  { name: 'user content missing', body: withMessages({ role: 'user' }), param: 'messages[0].content', message: "'messages[0].content' is required" },
  { name: 'assistant content null', body: withMessages(USER, { role: 'assistant', content: null }), param: 'messages[1].content', message: 'needs tool calls, which are not supported' },
  { name: 'content a number', body: withMessages({ role: 'user', content: 5 }), param: 'messages[0].content', message: 'must be a string or an array of content parts, got 5' },
  { name: 'content an empty array', body: withMessages({ role: 'user', content: [] }), param: 'messages[0].content', message: 'at least one content part' },
  { name: 'content part not an object', body: withMessages({ role: 'user', content: ['hi'] }), param: 'messages[0].content[0]', message: "'messages[0].content[0]' must be an object, got a string" },
  { name: 'content part without type', body: withMessages({ role: 'user', content: [{ text: 'hi' }] }), param: 'messages[0].content[0].type', message: 'is required' },
  { name: 'content part type not a string', body: withMessages({ role: 'user', content: [{ type: 1 }] }), param: 'messages[0].content[0].type', message: 'must be a string, got 1' },
  { name: 'text part without text', body: withMessages({ role: 'user', content: [{ type: 'text' }] }), param: 'messages[0].content[0].text', message: "'messages[0].content[0].text' is required" },
  { name: 'text part text not a string', body: withMessages({ role: 'user', content: [{ type: 'text', text: 5 }] }), param: 'messages[0].content[0].text', message: 'must be a string, got 5' },
  {
    name: 'image_url part',
    body: withMessages(USER, USER, { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] }),
    param: 'messages[2].content[1].type',
    message: "'messages[2].content[1].type' 'image_url' is not supported: this model takes text only",
  },
  { name: 'input_audio part', body: withMessages({ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }), param: 'messages[0].content[0].type', message: "'input_audio' is not supported: this model takes text only" },
  { name: 'file part', body: withMessages({ role: 'user', content: [{ type: 'file', file: { file_id: 'f' } }] }), param: 'messages[0].content[0].type', message: "'file' is not supported: this model takes text only" },
  { name: 'refusal part from a user', body: withMessages({ role: 'user', content: [{ type: 'refusal', refusal: 'no' }] }), param: 'messages[0].content[0].type', message: "must be 'text', got 'refusal'" },
  { name: 'unknown part type from an assistant', body: withMessages(USER, { role: 'assistant', content: [{ type: 'thinking', text: 'x' }] }), param: 'messages[1].content[0].type', message: "must be 'text' or 'refusal', got 'thinking'" },
  { name: 'refusal part without refusal', body: withMessages(USER, { role: 'assistant', content: [{ type: 'refusal' }] }), param: 'messages[1].content[0].refusal', message: 'is required' },
  // assistant and tool messages
  {
    name: 'assistant tool_calls',
    body: withMessages(USER, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }),
    param: 'messages[1].tool_calls',
    message: "'messages[1].tool_calls' are not supported",
  },
  { name: 'assistant tool_calls not an array', body: withMessages(USER, { role: 'assistant', content: 'x', tool_calls: 'c1' }), param: 'messages[1].tool_calls', message: 'must be an array, got a string' },
  { name: 'assistant function_call', body: withMessages(USER, { role: 'assistant', content: 'x', function_call: { name: 'f', arguments: '{}' } }), param: 'messages[1].function_call', message: 'is not supported' },
  { name: 'assistant audio', body: withMessages(USER, { role: 'assistant', content: 'x', audio: { id: 'a1' } }), param: 'messages[1].audio', message: 'is not supported' },
  { name: 'tool without tool_call_id', body: withMessages(USER, { role: 'tool', content: '42' }), param: 'messages[1].tool_call_id', message: "'messages[1].tool_call_id' is required" },
  { name: 'tool_call_id not a string', body: withMessages(USER, { role: 'tool', content: '42', tool_call_id: 5 }), param: 'messages[1].tool_call_id', message: 'must be a string, got 5' },
  // streaming
  { name: 'stream not a boolean', body: body({ stream: 'yes' }), param: 'stream', message: "'stream' must be a boolean, got a string" },
  { name: 'stream_options with stream false', body: body({ stream: false, stream_options: { include_usage: true } }), param: 'stream_options', message: 'is only allowed with stream: true' },
  { name: 'stream_options without stream', body: body({ stream_options: { include_usage: true } }), param: 'stream_options', message: 'is only allowed with stream: true' },
  { name: 'stream_options not an object', body: body({ stream: true, stream_options: true }), param: 'stream_options', message: 'must be an object, got true' },
  { name: 'stream_options.include_usage not a boolean', body: body({ stream: true, stream_options: { include_usage: 'yes' } }), param: 'stream_options.include_usage', message: 'must be a boolean, got a string' },
  { name: 'stream_options.include_obfuscation not a boolean', body: body({ stream: true, stream_options: { include_obfuscation: 1 } }), param: 'stream_options.include_obfuscation', message: 'must be a boolean, got 1' },
  { name: 'unknown stream option', body: body({ stream: true, stream_options: { continuous_usage_stats: true } }), param: 'stream_options.continuous_usage_stats', message: 'is not a supported stream option' },
  // max tokens
  { name: 'max_tokens zero', body: body({ max_tokens: 0 }), param: 'max_tokens', message: "'max_tokens' must be at least 1, got 0" },
  { name: 'max_tokens fractional', body: body({ max_tokens: 1.5 }), param: 'max_tokens', message: 'must be an integer, got 1.5' },
  { name: 'max_tokens a string', body: body({ max_tokens: '10' }), param: 'max_tokens', message: 'must be an integer, got a string' },
  { name: 'max_tokens above the limit', body: body({ max_tokens: 1025 }), param: 'max_tokens', message: "must be at most 1024 (this model's limit), got 1025" },
  { name: 'max_completion_tokens above the limit', body: body({ max_completion_tokens: 2000, max_tokens: 10 }), param: 'max_completion_tokens', message: "must be at most 1024 (this model's limit), got 2000" },
  { name: 'max_completion_tokens zero', body: body({ max_completion_tokens: 0 }), param: 'max_completion_tokens', message: 'must be at least 1, got 0' },
  { name: 'max_tokens invalid even when max_completion_tokens wins', body: body({ max_completion_tokens: 10, max_tokens: -1 }), param: 'max_tokens', message: 'must be at least 1, got -1' },
  // sampling
  { name: 'temperature above 2', body: body({ temperature: 2.5 }), param: 'temperature', message: "'temperature' must be between 0 and 2, got 2.5" },
  { name: 'temperature below 0', body: body({ temperature: -0.1 }), param: 'temperature', message: 'must be between 0 and 2, got -0.1' },
  { name: 'temperature a string', body: body({ temperature: 'hot' }), param: 'temperature', message: 'must be a number, got a string' },
  { name: 'top_p above 1', body: body({ top_p: 1.5 }), param: 'top_p', message: 'must be between 0 and 1, got 1.5' },
  { name: 'top_p a boolean', body: body({ top_p: true }), param: 'top_p', message: 'must be a number, got true' },
  { name: 'frequency_penalty above 2', body: body({ frequency_penalty: 3 }), param: 'frequency_penalty', message: 'must be between -2 and 2, got 3' },
  { name: 'presence_penalty below -2', body: body({ presence_penalty: -3 }), param: 'presence_penalty', message: 'must be between -2 and 2, got -3' },
  { name: 'n above 1', body: body({ n: 2 }), param: 'n', message: 'n > 1 is not supported' },
  { name: 'n zero', body: body({ n: 0 }), param: 'n', message: 'must be at least 1, got 0' },
  { name: 'n fractional', body: body({ n: 1.5 }), param: 'n', message: 'must be an integer, got 1.5' },
  { name: 'stop empty string', body: body({ stop: '' }), param: 'stop', message: "'stop' must not be an empty string" },
  { name: 'stop empty array', body: body({ stop: [] }), param: 'stop', message: 'must hold 1 to 4 strings, got 0' },
  { name: 'stop five strings', body: body({ stop: ['a', 'b', 'c', 'd', 'e'] }), param: 'stop', message: 'must hold 1 to 4 strings, got 5' },
  { name: 'stop a number', body: body({ stop: 5 }), param: 'stop', message: 'must be a string or an array of strings, got 5' },
  { name: 'stop item not a string', body: body({ stop: ['a', 5] }), param: 'stop[1]', message: "'stop[1]' must be a string, got 5" },
  { name: 'stop item empty', body: body({ stop: ['a', ''] }), param: 'stop[1]', message: "'stop[1]' must not be an empty string" },
  { name: 'seed fractional', body: body({ seed: 1.5 }), param: 'seed', message: 'must be an integer, got 1.5' },
  { name: 'seed beyond the safe range', body: body({ seed: 2 ** 60 }), param: 'seed', message: 'must be between -9007199254740991 and 9007199254740991' },
  { name: 'top_k zero', body: body({ top_k: 0 }), param: 'top_k', message: 'must be -1 (disabled) or at least 1, got 0' },
  { name: 'top_k below -1', body: body({ top_k: -2 }), param: 'top_k', message: 'must be -1 (disabled) or at least 1, got -2' },
  { name: 'top_k fractional', body: body({ top_k: 2.5 }), param: 'top_k', message: 'must be an integer, got 2.5' },
  { name: 'repetition_penalty zero', body: body({ repetition_penalty: 0 }), param: 'repetition_penalty', message: 'must be greater than 0, got 0' },
  { name: 'repetition_penalty a string', body: body({ repetition_penalty: '1' }), param: 'repetition_penalty', message: 'must be a number, got a string' },
  { name: 'min_tokens negative', body: body({ min_tokens: -1 }), param: 'min_tokens', message: 'must be at least 0, got -1' },
  { name: 'min_tokens above max tokens', body: body({ min_tokens: 300 }), param: 'min_tokens', message: "must not exceed the request's max tokens (256), got 300" },
  { name: 'ignore_eos not a boolean', body: body({ ignore_eos: 'yes' }), param: 'ignore_eos', message: 'must be a boolean, got a string' },
  // unsupported OpenAI features
  { name: 'tools', body: body({ tools: [{ type: 'function', function: { name: 'f' } }] }), param: 'tools', message: "'tools' are not supported" },
  { name: 'tools not an array', body: body({ tools: {} }), param: 'tools', message: 'must be an array, got an object' },
  { name: 'tool_choice auto', body: body({ tool_choice: 'auto' }), param: 'tool_choice', message: "is not supported (only 'none')" },
  { name: 'tool_choice a function', body: body({ tool_choice: { type: 'function', function: { name: 'f' } } }), param: 'tool_choice', message: "is not supported (only 'none')" },
  { name: 'functions', body: body({ functions: [{ name: 'f' }] }), param: 'functions', message: "'functions' are not supported" },
  { name: 'function_call', body: body({ function_call: 'auto' }), param: 'function_call', message: "is not supported (only 'none')" },
  { name: 'logprobs true', body: body({ logprobs: true }), param: 'logprobs', message: "'logprobs' true is not supported" },
  { name: 'logprobs a number', body: body({ logprobs: 1 }), param: 'logprobs', message: 'must be a boolean, got 1' },
  { name: 'top_logprobs without logprobs', body: body({ top_logprobs: 2 }), param: 'top_logprobs', message: 'requires logprobs: true' },
  { name: 'top_logprobs with logprobs', body: body({ logprobs: true, top_logprobs: 2 }), param: 'top_logprobs', message: "'top_logprobs' is not supported" },
  { name: 'logit_bias', body: body({ logit_bias: { '50256': -100 } }), param: 'logit_bias', message: "'logit_bias' is not supported" },
  { name: 'logit_bias not an object', body: body({ logit_bias: [] }), param: 'logit_bias', message: 'must be an object, got an array' },
  { name: 'response_format json_object', body: body({ response_format: { type: 'json_object' } }), param: 'response_format', message: "type 'json_object' is not supported" },
  { name: 'response_format json_schema', body: body({ response_format: { type: 'json_schema', json_schema: { name: 's' } } }), param: 'response_format', message: "type 'json_schema' is not supported" },
  { name: 'response_format not an object', body: body({ response_format: 'text' }), param: 'response_format', message: 'must be an object, got a string' },
  { name: 'response_format without type', body: body({ response_format: {} }), param: 'response_format.type', message: 'is required' },
  { name: 'audio', body: body({ audio: { voice: 'alloy', format: 'wav' } }), param: 'audio', message: "'audio' is not supported" },
  { name: 'modalities with audio', body: body({ modalities: ['text', 'audio'] }), param: 'modalities', message: 'must be ["text"]' },
  { name: 'modalities not an array', body: body({ modalities: 'text' }), param: 'modalities', message: 'must be an array, got a string' },
  { name: 'prediction', body: body({ prediction: { type: 'content', content: 'x' } }), param: 'prediction', message: "'prediction' is not supported" },
  { name: 'web_search_options', body: body({ web_search_options: {} }), param: 'web_search_options', message: "'web_search_options' is not supported" },
  // unknown fields
  { name: 'a typo', body: body({ temprature: 0.5 }), param: 'temprature', message: "unrecognized request field 'temprature'" },
  { name: 'a vLLM extra not offered', body: body({ min_p: 0.1 }), param: 'min_p', message: "unrecognized request field 'min_p'" },
  { name: 'a completions field', body: body({ echo: true }), param: 'echo', message: "unrecognized request field 'echo'" },
  { name: 'prompt on chat', body: body({ prompt: 'hi' }), param: 'prompt', message: "unrecognized request field 'prompt'" },
];

for (const c of BAD) {
  test(`rejects ${c.name}`, () => {
    assert.throws(() => parseChatRequest(c.body, LIMITS), (err: unknown) => {
      assert.ok(err instanceof SwitchyardError, String(err));
      assert.equal(err.code, 'SWY_ERR_INPUT_INVALID_FIELD' satisfies ErrorCode);
      assert.equal(err.httpStatus, 400);
      assert.equal(err.param, c.param);
      assert.ok(err.message.includes(c.message), `"${err.message}" should contain "${c.message}"`);
      return true;
    });
  });
}

test('a minimal request gets the defaults', () => {
  const b = body();
  const expected: LlmRequest = {
    kind: 'chat',
    model: 'llama',
    messages: [{ role: 'user', content: 'hi' }],
    sampling: { maxTokens: 256, stop: [] },
    stream: false,
    includeUsage: false,
    body: b,
  };
  const request = parseChatRequest(b, LIMITS);
  assert.deepEqual(request, expected);
  assert.equal(request.body, b, 'the original body object, for forwarding');
});

test('every field set: roles, parts, names, streaming, sampling, ignored and neutral fields', () => {
  const b = body({
    messages: [
      { role: 'system', content: 'Be brief.', name: 'rules' },
      { role: 'developer', content: [{ type: 'text', text: 'Dev ' }, { type: 'text', text: 'note.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Q?' }], name: 'ann' },
      { role: 'assistant', content: [{ type: 'text', text: 'A' }, { type: 'refusal', refusal: '!' }], refusal: null },
    ],
    stream: true,
    stream_options: { include_usage: true, include_obfuscation: false },
    max_completion_tokens: 100,
    max_tokens: 2000, // over the limit, but max_completion_tokens is the one used
    temperature: 0.7,
    top_p: 0.9,
    frequency_penalty: 0.5,
    presence_penalty: -0.5,
    n: 1,
    stop: 'END',
    seed: -42,
    top_k: 40,
    repetition_penalty: 1.1,
    min_tokens: 5,
    ignore_eos: true,
    tools: [],
    tool_choice: 'none',
    functions: [],
    function_call: 'none',
    logprobs: false,
    logit_bias: {},
    response_format: { type: 'text' },
    modalities: ['text'],
    user: 'u-1',
    metadata: { team: 'a' },
    store: false,
    service_tier: 'auto',
    safety_identifier: 'hash',
    prompt_cache_key: 'k',
    prompt_cache_retention: '24h',
    parallel_tool_calls: true,
    reasoning_effort: 'low',
    verbosity: 'low',
  });
  assert.deepEqual(parseChatRequest(b, LIMITS), {
    kind: 'chat',
    model: 'llama',
    messages: [
      { role: 'system', content: 'Be brief.', name: 'rules' },
      { role: 'developer', content: 'Dev note.' },
      { role: 'user', content: 'Q?', name: 'ann' },
      { role: 'assistant', content: 'A!' },
    ],
    sampling: {
      maxTokens: 100,
      temperature: 0.7,
      topP: 0.9,
      frequencyPenalty: 0.5,
      presencePenalty: -0.5,
      stop: ['END'],
      seed: -42,
      topK: 40,
      repetitionPenalty: 1.1,
      minTokens: 5,
      ignoreEos: true,
    },
    stream: true,
    includeUsage: true,
    body: b,
  } satisfies LlmRequest);
});

test('null means absent for every optional field', () => {
  const nullable = [
    'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'frequency_penalty',
    'presence_penalty', 'n', 'stop', 'seed', 'top_k', 'repetition_penalty', 'min_tokens', 'ignore_eos', 'logit_bias',
    'logprobs', 'top_logprobs', 'tools', 'tool_choice', 'functions', 'function_call', 'response_format', 'audio',
    'modalities', 'prediction', 'web_search_options',
  ];
  const b = body(Object.fromEntries(nullable.map((field) => [field, null])));
  const request = parseChatRequest(b, LIMITS);
  assert.deepEqual(request.sampling, { maxTokens: 256, stop: [] });
  assert.equal(request.stream, false);
  assert.equal(request.includeUsage, false);
});

test('max_tokens is used when max_completion_tokens is absent; the default never exceeds the limit', () => {
  assert.equal(parseChatRequest(body({ max_tokens: 1024 }), LIMITS).sampling.maxTokens, 1024);
  assert.equal(parseChatRequest(body({ max_tokens: 2000, max_completion_tokens: null }), { ...LIMITS, maxTokens: 2000 }).sampling.maxTokens, 2000);
  assert.equal(parseChatRequest(body(), { ...LIMITS, defaultMaxTokens: 5000 }).sampling.maxTokens, 1024);
});

test('boundary values are accepted', () => {
  const edges: Array<Record<string, unknown>> = [
    { temperature: 0, top_p: 0, frequency_penalty: -2, presence_penalty: -2, min_tokens: 0 },
    { temperature: 2, top_p: 1, frequency_penalty: 2, presence_penalty: 2, min_tokens: 256 },
    { stop: ['a', 'b', 'c', 'd'], seed: Number.MAX_SAFE_INTEGER, top_k: 1, repetition_penalty: 1e-9 },
  ];
  for (const edge of edges) assert.doesNotThrow(() => parseChatRequest(body(edge), LIMITS), JSON.stringify(edge));
  // Exactly maxMessages messages holding exactly maxPromptChars characters.
  const four = withMessages(...['a', 'b', 'c'].map((c) => ({ role: 'user', content: c.repeat(25) })), { role: 'user', content: [{ type: 'text', text: 'd'.repeat(25) }] });
  assert.equal(parseChatRequest(four, LIMITS).messages?.length, 4);
});

test('top_k -1 means disabled: the backend default', () => {
  assert.deepEqual(parseChatRequest(body({ top_k: -1 }), LIMITS).sampling, { maxTokens: 256, stop: [] });
});

test('every ignored field is accepted and left in the body', () => {
  for (const field of IGNORED_FIELDS) {
    const b = body({ [field]: { any: 'value' } });
    const request = parseChatRequest(b, LIMITS);
    assert.deepEqual(request.body[field], { any: 'value' }, field);
  }
});

test('an assistant message replayed from a response (nulls, empty tool_calls, extra keys) is accepted', () => {
  const replayed = {
    role: 'assistant', content: 'Hello.', refusal: null, tool_calls: [], function_call: null, audio: null, annotations: [], reasoning_content: null,
  };
  const tool = { role: 'tool', content: [{ type: 'text', text: '42' }], tool_call_id: 'call_1' };
  assert.deepEqual(parseChatRequest(withMessages(USER, replayed, tool), LIMITS).messages, [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'Hello.' },
    { role: 'tool', content: '42' },
  ]);
});

test('a field named like an Object.prototype member is an unknown field, not a crash', () => {
  const b = JSON.parse('{"model":"m","messages":[{"role":"user","content":"x"}],"__proto__":{"temperature":9}}') as Record<string, unknown>;
  assert.throws(() => parseChatRequest(b, LIMITS), { param: '__proto__', message: "unrecognized request field '__proto__'" });
});

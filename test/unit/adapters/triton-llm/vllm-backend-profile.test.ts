// vllm-backend profile: the request's tensors decoded back with the codec, and the decoder fed responses shaped as
// the Triton vLLM backend sends them (raw contents, num_input_tokens as a 0-d UINT32, "None" until finished).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SamplingParams } from '../../../../router/core/llm.js';
import { vllmBackendProfile } from '../../../../router/adapters/triton-llm/index.js';
import { decodeInputs, emptyFinal, onTheWire, tritonResponse, type OutputSpec } from './triton-messages.js';

const upstream = { model: 'llama', version: '3' };
const minimal: SamplingParams = { maxTokens: 64, stop: [] };
const full: SamplingParams = {
  maxTokens: 128, temperature: 0.7, topP: 0.9, topK: 40, stop: ['</s>', '\n\n'], seed: 42,
  frequencyPenalty: 0.5, presencePenalty: -0.25, repetitionPenalty: 1.1, minTokens: 2, ignoreEos: false,
};

/** One streamed vLLM response: text delta, finish_reason, prompt count (a 0-d tensor, as numpy writes it), delta tokens. */
function step(text: string, finish: string, outputTokens: number, final: boolean, inputTokens = 7) {
  const outputs: OutputSpec[] = [
    { name: 'text_output', datatype: 'BYTES', shape: [1], data: [text] },
    { name: 'finish_reason', datatype: 'BYTES', shape: [1], data: [finish] },
    { name: 'num_input_tokens', datatype: 'UINT32', shape: [], data: [inputTokens] },
    { name: 'num_output_tokens', datatype: 'UINT32', shape: [1], data: [outputTokens] },
  ];
  return tritonResponse(outputs, final);
}

test('vllm-backend request: id, model, empty-final opt-in, every input raw with no batch dim', () => {
  const built = vllmBackendProfile.buildRequest({ prompt: 'Hi there 👋', sampling: full, stream: true, upstream, id: 'req-9' });
  const request = onTheWire(built);
  assert.equal(request.id, 'req-9');
  assert.equal(request.model_name, 'llama');
  assert.equal(request.model_version, '3');
  assert.deepEqual(request.parameters, { triton_enable_empty_final_response: { bool_param: true, parameter_choice: 'bool_param' } });
  assert.deepEqual(request.outputs, []);
  const inputs = decodeInputs(request);
  assert.deepEqual([...inputs.keys()], [
    'text_input', 'stream', 'exclude_input_in_output', 'sampling_parameters',
    'return_finish_reason', 'return_num_input_tokens', 'return_num_output_tokens',
  ]);
  assert.deepEqual(inputs.get('text_input'), { datatype: 'BYTES', shape: [1], values: ['Hi there 👋'] });
  assert.deepEqual(inputs.get('stream'), { datatype: 'BOOL', shape: [1], values: [true] });
  assert.deepEqual(inputs.get('exclude_input_in_output'), { datatype: 'BOOL', shape: [1], values: [true] });
  for (const name of ['return_finish_reason', 'return_num_input_tokens', 'return_num_output_tokens']) {
    assert.deepEqual(inputs.get(name), { datatype: 'BOOL', shape: [1], values: [true] }, name);
  }
  const sampling = inputs.get('sampling_parameters');
  assert.equal(sampling?.datatype, 'BYTES');
  assert.deepEqual(sampling?.shape, [1]);
  assert.deepEqual(JSON.parse(sampling?.values[0] as string), {
    max_tokens: 128, temperature: 0.7, top_p: 0.9, top_k: 40, stop: ['</s>', '\n\n'], seed: 42,
    frequency_penalty: 0.5, presence_penalty: -0.25, repetition_penalty: 1.1, min_tokens: 2, ignore_eos: false,
  });
  // BYTES on the wire: a 4-byte little-endian length, then UTF-8.
  const prompt = request.raw_input_contents[0] as Buffer;
  assert.equal(prompt.readUInt32LE(0), Buffer.byteLength('Hi there 👋'));
  assert.equal(prompt.subarray(4).toString('utf8'), 'Hi there 👋');
  assert.equal(prompt.length, 4 + Buffer.byteLength('Hi there 👋'));
});

test('vllm-backend request: sampling_parameters holds only what is set; an empty stop list is left out', () => {
  const request = onTheWire(vllmBackendProfile.buildRequest({ prompt: 'p', sampling: minimal, stream: false, upstream, id: 'r' }));
  const inputs = decodeInputs(request);
  assert.equal(inputs.get('sampling_parameters')?.values[0], '{"max_tokens":64}');
  assert.deepEqual(inputs.get('stream')?.values, [false]);
  assert.deepEqual(inputs.get('exclude_input_in_output')?.values, [true]);
});

test('vllm-backend decoder, streaming: deltas pass through, counts add up, finish_reason from the final response', () => {
  const decoder = vllmBackendProfile.createDecoder(full, true);
  assert.deepEqual(decoder.push(step('Hel', 'None', 1, false)), { delta: 'Hel' });
  assert.deepEqual(decoder.push(step('', 'None', 1, false)), { delta: '' });
  assert.deepEqual(decoder.push(step('lo', 'None', 1, false)), { delta: 'lo' });
  assert.deepEqual(decoder.push(step(' world', 'stop', 2, true)), {
    delta: ' world', end: { finishReason: 'stop', usage: { promptTokens: 7, completionTokens: 5 } },
  });
});

test('vllm-backend decoder: a flags-only final ends with what earlier responses said', () => {
  const decoder = vllmBackendProfile.createDecoder(minimal, true);
  assert.deepEqual(decoder.push(step('a', 'None', 1, false, 3)), { delta: 'a' });
  assert.deepEqual(decoder.push(step('b', 'length', 1, false, 3)), { delta: 'b' });
  assert.deepEqual(decoder.push(emptyFinal()), { delta: '', end: { finishReason: 'length', usage: { promptTokens: 3, completionTokens: 2 } } });
});

test('vllm-backend decoder, non-streaming: one final response with the whole text and the total count', () => {
  const decoder = vllmBackendProfile.createDecoder(minimal, false);
  assert.deepEqual(decoder.push(step('The whole answer.', 'length', 64, true, 12)), {
    delta: 'The whole answer.', end: { finishReason: 'length', usage: { promptTokens: 12, completionTokens: 64 } },
  });
});

test('vllm-backend decoder: finish reasons other than stop/length/abort end as stop', () => {
  for (const reason of ['stop', 'None', 'tool_calls', '']) {
    const decoder = vllmBackendProfile.createDecoder(minimal, true);
    decoder.push(step('x', reason, 1, false));
    assert.equal(decoder.push(emptyFinal()).end?.finishReason, 'stop', reason);
  }
});

test('vllm-backend decoder: abort is an upstream rejection with canonical ABORTED', () => {
  const decoder = vllmBackendProfile.createDecoder(minimal, true);
  decoder.push(step('x', 'None', 1, false));
  assert.throws(() => decoder.push(step('', 'abort', 0, true)), {
    name: 'SwitchyardError', code: 'SWY_ERR_UPSTREAM_REJECTED', canonical: 'ABORTED', message: 'upstream aborted the generation',
  });
});

test('vllm-backend decoder: a character split across responses is joined, not replaced', () => {
  const bytes = Buffer.from('é👍'); // 2 + 4 bytes
  // A response whose text_output element carries exactly these bytes (the codec would only write whole strings).
  const carrying = (raw: Buffer, final: boolean, finish: string) => {
    const response = step('', finish, 1, final);
    const framed = Buffer.alloc(4 + raw.length);
    framed.writeUInt32LE(raw.length, 0);
    raw.copy(framed, 4);
    response.raw_output_contents[0] = framed;
    return response;
  };
  const decoder = vllmBackendProfile.createDecoder(minimal, true);
  assert.deepEqual(decoder.push(carrying(bytes.subarray(0, 1), false, 'None')), { delta: '' });
  assert.deepEqual(decoder.push(carrying(bytes.subarray(1, 4), false, 'None')), { delta: 'é' });
  assert.deepEqual(decoder.push(carrying(bytes.subarray(4), true, 'stop')),
    { delta: '👍', end: { finishReason: 'stop', usage: { promptTokens: 7, completionTokens: 3 } } });
});

test('vllm-backend decoder: missing or malformed outputs are bad upstream responses naming the output', () => {
  const bad = (message: RegExp) => ({ name: 'SwitchyardError', code: 'SWY_ERR_UPSTREAM_BAD_RESPONSE', message });
  const without = (name: string) => tritonResponse([
    { name: 'text_output', datatype: 'BYTES', shape: [1], data: ['x'] },
    { name: 'finish_reason', datatype: 'BYTES', shape: [1], data: ['stop'] },
    { name: 'num_input_tokens', datatype: 'UINT32', shape: [], data: [1] },
    { name: 'num_output_tokens', datatype: 'UINT32', shape: [1], data: [1] },
  ].filter((o) => o.name !== name) as OutputSpec[], true);
  assert.throws(() => vllmBackendProfile.createDecoder(minimal, true).push(without('text_output')), bad(/no output 'text_output'/));
  assert.throws(() => vllmBackendProfile.createDecoder(minimal, true).push(without('finish_reason')), bad(/no output 'finish_reason'/));
  assert.throws(() => vllmBackendProfile.createDecoder(minimal, true).push(without('num_input_tokens')), bad(/'num_input_tokens' in any response/));
  assert.throws(() => vllmBackendProfile.createDecoder(minimal, true).push(without('num_output_tokens')), bad(/'num_output_tokens' in any response/));
  assert.throws(() => vllmBackendProfile.createDecoder(minimal, true).push(emptyFinal()), bad(/no output 'finish_reason' in any response/));
  const wrongType = tritonResponse([
    { name: 'text_output', datatype: 'BYTES', shape: [1], data: ['x'] },
    { name: 'finish_reason', datatype: 'BYTES', shape: [1], data: ['stop'] },
    { name: 'num_input_tokens', datatype: 'FP32', shape: [1], data: [1] },
    { name: 'num_output_tokens', datatype: 'UINT32', shape: [1], data: [1] },
  ], true);
  assert.throws(() => vllmBackendProfile.createDecoder(minimal, true).push(wrongType),
    bad(/^upstream output 'num_input_tokens': datatype FP32 is not an integer type$/));
  const noElements = tritonResponse([{ name: 'text_output', datatype: 'BYTES', shape: [0], data: [] }], false);
  assert.throws(() => vllmBackendProfile.createDecoder(minimal, true).push(noElements), bad(/^upstream output 'text_output': has no elements$/));
  const truncated = step('hello', 'None', 1, false);
  truncated.raw_output_contents[0] = (truncated.raw_output_contents[0] as Buffer).subarray(0, 6);
  assert.throws(() => vllmBackendProfile.createDecoder(minimal, true).push(truncated), bad(/^upstream output 'text_output': /));
});

test('vllm-backend decoder: a response after the final one is refused', () => {
  const decoder = vllmBackendProfile.createDecoder(minimal, false);
  decoder.push(step('x', 'stop', 1, true));
  assert.throws(() => decoder.push(emptyFinal()), { code: 'SWY_ERR_UPSTREAM_BAD_RESPONSE', message: 'upstream sent a response after the final one' });
});

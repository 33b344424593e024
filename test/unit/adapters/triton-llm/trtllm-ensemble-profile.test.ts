// trtllm-ensemble profile: [1,1] tensors per sampling setting, and a decoder that cuts the stop strings TRT-LLM keeps
// and infers finish_reason from the cut and the token count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SamplingParams } from '../../../../router/core/llm.js';
import { trtllmEnsembleProfile } from '../../../../router/adapters/triton-llm/index.js';
import { decodeInputs, emptyFinal, onTheWire, tritonResponse } from './triton-messages.js';

const upstream = { model: 'ensemble', version: '' };
const minimal: SamplingParams = { maxTokens: 5, stop: [] };
const full: SamplingParams = {
  maxTokens: 200, temperature: 0.7, topP: 0.9, topK: 40, stop: ['<|end|>', 'User:'], seed: 18446744073709,
  frequencyPenalty: 0.5, presencePenalty: -0.25, repetitionPenalty: 1.1, minTokens: 2, ignoreEos: true,
};

/** One ensemble response: text_output [1,1] and INT32 [1,1] counts, as the ensemble's batch dim makes them. */
function step(text: string, outputTokens: number, final: boolean, inputTokens = 9) {
  return tritonResponse([
    { name: 'text_output', datatype: 'BYTES', shape: [1, 1], data: [[text]] },
    { name: 'num_input_tokens', datatype: 'INT32', shape: [1, 1], data: [[inputTokens]] },
    { name: 'num_output_tokens', datatype: 'INT32', shape: [1, 1], data: [[outputTokens]] },
  ], final);
}

test('trtllm-ensemble request: every setting its own [1,1] tensor with the ensemble datatype', () => {
  const request = onTheWire(trtllmEnsembleProfile.buildRequest({ prompt: 'Q: 2+2?', sampling: full, stream: true, upstream, id: 'gen-1' }));
  assert.equal(request.id, 'gen-1');
  assert.equal(request.model_name, 'ensemble');
  assert.equal(request.model_version, '');
  assert.deepEqual(request.parameters, { triton_enable_empty_final_response: { bool_param: true, parameter_choice: 'bool_param' } });
  const inputs = decodeInputs(request);
  const f32 = Math.fround;
  assert.deepEqual(Object.fromEntries(inputs), {
    text_input: { datatype: 'BYTES', shape: [1, 1], values: ['Q: 2+2?'] },
    max_tokens: { datatype: 'INT32', shape: [1, 1], values: [200] },
    stream: { datatype: 'BOOL', shape: [1, 1], values: [true] },
    exclude_input_in_output: { datatype: 'BOOL', shape: [1, 1], values: [true] },
    temperature: { datatype: 'FP32', shape: [1, 1], values: [f32(0.7)] },
    top_p: { datatype: 'FP32', shape: [1, 1], values: [f32(0.9)] },
    top_k: { datatype: 'INT32', shape: [1, 1], values: [40] },
    frequency_penalty: { datatype: 'FP32', shape: [1, 1], values: [0.5] },
    presence_penalty: { datatype: 'FP32', shape: [1, 1], values: [-0.25] },
    repetition_penalty: { datatype: 'FP32', shape: [1, 1], values: [f32(1.1)] },
    min_tokens: { datatype: 'INT32', shape: [1, 1], values: [2] },
    seed: { datatype: 'UINT64', shape: [1, 1], values: [18446744073709] },
    stop_words: { datatype: 'BYTES', shape: [1, 2], values: ['<|end|>', 'User:'] },
    return_num_input_tokens: { datatype: 'BOOL', shape: [1, 1], values: [true] },
    return_num_output_tokens: { datatype: 'BOOL', shape: [1, 1], values: [true] },
  });
  // ignoreEos has no ensemble input; nothing else is sent.
  assert.equal(inputs.has('ignore_eos'), false);
  const stopWords = request.raw_input_contents[[...inputs.keys()].indexOf('stop_words')] as Buffer;
  assert.equal(stopWords.toString('hex'), Buffer.concat([
    Buffer.from([7, 0, 0, 0]), Buffer.from('<|end|>'), Buffer.from([5, 0, 0, 0]), Buffer.from('User:'),
  ]).toString('hex'));
});

test('trtllm-ensemble request: only the required tensors and the switches when nothing optional is set', () => {
  const inputs = decodeInputs(onTheWire(trtllmEnsembleProfile.buildRequest({ prompt: '', sampling: minimal, stream: false, upstream, id: 'x' })));
  assert.deepEqual(Object.fromEntries(inputs), {
    text_input: { datatype: 'BYTES', shape: [1, 1], values: [''] },
    max_tokens: { datatype: 'INT32', shape: [1, 1], values: [5] },
    stream: { datatype: 'BOOL', shape: [1, 1], values: [false] },
    exclude_input_in_output: { datatype: 'BOOL', shape: [1, 1], values: [true] },
    return_num_input_tokens: { datatype: 'BOOL', shape: [1, 1], values: [true] },
    return_num_output_tokens: { datatype: 'BOOL', shape: [1, 1], values: [true] },
  });
});

test('trtllm-ensemble request: a value the tensor type cannot hold is refused, naming the tensor', () => {
  assert.throws(() => trtllmEnsembleProfile.buildRequest({ prompt: 'p', sampling: { ...minimal, seed: -1 }, stream: false, upstream, id: 'x' }),
    { name: 'SwitchyardError', code: 'SWY_ERR_INPUT_TENSOR_DATATYPE', message: /^input 'seed': UINT64 element 0 \(-1\) is outside/ });
});

test('trtllm-ensemble decoder: a stop string split across three responses is cut, later text ignored, counts still summed', () => {
  const decoder = trtllmEnsembleProfile.createDecoder({ maxTokens: 100, stop: ['<|end|>'] }, true);
  const deltas = [
    decoder.push(step('Hello <|', 3, false)),
    decoder.push(step('en', 1, false)),
    decoder.push(step('d|> and more', 3, false)),
    decoder.push(step(' ignored', 1, false)),
  ];
  assert.deepEqual(deltas, [{ delta: 'Hello ' }, { delta: '' }, { delta: '' }, { delta: '' }]);
  assert.deepEqual(decoder.push(emptyFinal()), { delta: '', end: { finishReason: 'stop', usage: { promptTokens: 9, completionTokens: 8 } } });
});

test('trtllm-ensemble decoder: held-back text that never becomes a stop string is emitted, at the latest with the end', () => {
  const decoder = trtllmEnsembleProfile.createDecoder({ maxTokens: 100, stop: ['User:'] }, true);
  assert.deepEqual(decoder.push(step('Ask the Us', 4, false)), { delta: 'Ask the ' });
  assert.deepEqual(decoder.push(step('er manual. Us', 4, false)), { delta: 'User manual. ' });
  assert.deepEqual(decoder.push(step('', 0, true)), { delta: 'Us', end: { finishReason: 'stop', usage: { promptTokens: 9, completionTokens: 8 } } });
});

test('trtllm-ensemble decoder: finish_reason is length once max_tokens were generated, else stop', () => {
  const atLimit = trtllmEnsembleProfile.createDecoder(minimal, true);
  atLimit.push(step('one two', 2, false));
  assert.deepEqual(atLimit.push(step(' three', 3, true)), { delta: ' three', end: { finishReason: 'length', usage: { promptTokens: 9, completionTokens: 5 } } });
  const early = trtllmEnsembleProfile.createDecoder(minimal, true);
  assert.deepEqual(early.push(step('eos', 4, true)), { delta: 'eos', end: { finishReason: 'stop', usage: { promptTokens: 9, completionTokens: 4 } } });
  // A cut stop string is 'stop' even when the count reached the limit too.
  const both = trtllmEnsembleProfile.createDecoder({ maxTokens: 5, stop: ['!'] }, false);
  assert.deepEqual(both.push(step('Hi! there', 5, true)), { delta: 'Hi', end: { finishReason: 'stop', usage: { promptTokens: 9, completionTokens: 5 } } });
});

test('trtllm-ensemble decoder, non-streaming: the whole text in one response, cut at the first stop string', () => {
  const decoder = trtllmEnsembleProfile.createDecoder({ maxTokens: 50, stop: ['\n\n', 'User:'] }, false);
  assert.deepEqual(decoder.push(step('Four.\n\nUser: and five?', 9, true, 14)), {
    delta: 'Four.', end: { finishReason: 'stop', usage: { promptTokens: 14, completionTokens: 9 } },
  });
});

test('trtllm-ensemble decoder: the emitted deltas always join to the cut final text', () => {
  const text = 'alpha <|e beta <|end|> gamma';
  for (let size = 1; size <= text.length; size++) {
    const decoder = trtllmEnsembleProfile.createDecoder({ maxTokens: 100, stop: ['<|end|>'] }, true);
    let joined = '';
    for (let at = 0; at < text.length; at += size) joined += decoder.push(step(text.slice(at, at + size), 1, false)).delta;
    const last = decoder.push(emptyFinal());
    joined += last.delta;
    assert.equal(joined, 'alpha <|e beta ', `chunks of ${size}`);
    assert.equal(last.end?.finishReason, 'stop');
  }
});

test('trtllm-ensemble decoder: missing outputs are bad upstream responses naming the output', () => {
  const bad = (message: RegExp) => ({ name: 'SwitchyardError', code: 'SWY_ERR_UPSTREAM_BAD_RESPONSE', message });
  const textOnly = tritonResponse([{ name: 'text_output', datatype: 'BYTES', shape: [1, 1], data: [['x']] }], true);
  assert.throws(() => trtllmEnsembleProfile.createDecoder(minimal, true).push(textOnly), bad(/no output 'num_input_tokens' in any response/));
  const noText = tritonResponse([{ name: 'num_input_tokens', datatype: 'INT32', shape: [1, 1], data: [[1]] }], false);
  assert.throws(() => trtllmEnsembleProfile.createDecoder(minimal, true).push(noText), bad(/^upstream response has no output 'text_output'$/));
  assert.throws(() => trtllmEnsembleProfile.createDecoder(minimal, true).push(emptyFinal()), bad(/no output 'num_input_tokens'/));
  const negative = tritonResponse([
    { name: 'text_output', datatype: 'BYTES', shape: [1, 1], data: [['x']] },
    { name: 'num_output_tokens', datatype: 'INT32', shape: [1, 1], data: [[-1]] },
  ], false);
  assert.throws(() => trtllmEnsembleProfile.createDecoder(minimal, true).push(negative), bad(/^upstream output 'num_output_tokens': -1 is not a token count$/));
});

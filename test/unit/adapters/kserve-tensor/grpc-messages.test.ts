// inputsFromRequest / outputsFromResponse on messages really encoded and decoded with the project's proto-loader options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferenceProto } from '../../../../router/core/grpc-definitions.js';
import type { ModelInferRequest } from '../../../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse } from '../../../../router/generated/inference/ModelInferResponse.js';
import {
  inputsFromRequest, jsonToRaw, joinBytesElements, outputsFromResponse, rawToJson,
} from '../../../../router/adapters/kserve-tensor/index.js';

const modelInfer = inferenceProto().inference.GRPCInferenceService.service.ModelInfer;

/** Through the wire and back, so tests see what a gRPC handler sees (defaults filled, int64 as strings, null contents). */
function request(message: ModelInferRequest) {
  return modelInfer.requestDeserialize(modelInfer.requestSerialize(message));
}
function response(message: ModelInferResponse) {
  return modelInfer.responseDeserialize(modelInfer.responseSerialize(message));
}

const inputErr = (code: string, name: string, message: RegExp) => ({ name: 'SwitchyardError', code, message: new RegExp(`^input '${name}': .*${message.source}`) });
const upstreamErr = (message: RegExp) => ({ name: 'SwitchyardError', code: 'SWY_ERR_UPSTREAM_BAD_RESPONSE', message });

test('inputs from raw_input_contents: one entry per input, in order, shapes as numbers', () => {
  const ids = jsonToRaw('ids', 'INT32', [2, 2], [1, 2, 3, 4]);
  const text = joinBytesElements([Buffer.from('hi'), Buffer.from('👍')]);
  const half = jsonToRaw('half', 'FP16', [1], [1]);
  const tensors = inputsFromRequest(request({
    model_name: 'm',
    inputs: [
      { name: 'ids', datatype: 'INT32', shape: [2, 2] },
      { name: 'text', datatype: 'BYTES', shape: [2] },
      { name: 'half', datatype: 'FP16', shape: [1] },
    ],
    raw_input_contents: [ids, text, half],
  }));
  assert.deepEqual(tensors, [
    { name: 'ids', datatype: 'INT32', shape: [2, 2], raw: ids },
    { name: 'text', datatype: 'BYTES', shape: [2], raw: text },
    { name: 'half', datatype: 'FP16', shape: [1], raw: half },
  ]);
});

test('inputs from typed contents, including int64 (decoded as strings) and bytes', () => {
  const tensors = inputsFromRequest(request({
    inputs: [
      { name: 'f', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1.5, -2] } },
      { name: 'i', datatype: 'INT64', shape: [1, 2], contents: { int64_contents: ['-9223372036854775808', '9223372036854775807'] } },
      { name: 'u', datatype: 'UINT64', shape: [1], contents: { uint64_contents: ['18446744073709551615'] } },
      { name: 's', datatype: 'BYTES', shape: [2], contents: { bytes_contents: [Buffer.from('a\u0000'), Buffer.alloc(0)] } },
      { name: 'b', datatype: 'BOOL', shape: [], contents: { bool_contents: [true] } },
      { name: 'e', datatype: 'INT8', shape: [0], contents: {} },
    ],
  }));
  assert.deepEqual(tensors.map((t) => [t.name, t.shape, rawToJson(t.name, t.datatype, t.shape, t.raw)]), [
    ['f', [2], [1.5, -2]],
    ['i', [1, 2], [-(2n ** 63n), 2n ** 63n - 1n]],
    ['u', [1], [2n ** 64n - 1n]],
    ['s', [2], ['a\u0000', '']],
    ['b', [], [true]],
    ['e', [0], []],
  ]);
  assert.deepEqual(inputsFromRequest(request({ model_name: 'm' })), []);
});

test('mixing raw_input_contents and contents is rejected, as Triton does', () => {
  const message = request({
    inputs: [
      { name: 'a', datatype: 'INT32', shape: [1] },
      { name: 'b', datatype: 'INT32', shape: [1], contents: { int_contents: [1] } },
    ],
    raw_input_contents: [jsonToRaw('a', 'INT32', [1], [1]), jsonToRaw('b', 'INT32', [1], [1])],
  });
  assert.throws(() => inputsFromRequest(message),
    inputErr('SWY_ERR_INPUT_INVALID_FIELD', 'b', /raw_input_contents must be used for all inputs or none/));
});

test('raw_input_contents count must equal the input count', () => {
  const message = request({
    inputs: [{ name: 'a', datatype: 'INT32', shape: [1] }, { name: 'b', datatype: 'INT32', shape: [1] }],
    raw_input_contents: [jsonToRaw('a', 'INT32', [1], [1])],
  });
  assert.throws(() => inputsFromRequest(message), {
    code: 'SWY_ERR_INPUT_INVALID_FIELD',
    message: /raw_input_contents has 1 entries but the request has 2 inputs/,
  });
});

test('each input is validated: datatype, shape, raw bytes, contents', () => {
  const one = (input: NonNullable<ModelInferRequest['inputs']>[number], raw?: Buffer) =>
    () => inputsFromRequest(request(raw === undefined ? { inputs: [input] } : { inputs: [input], raw_input_contents: [raw] }));
  assert.throws(one({ name: 'x', datatype: 'FLOAT32', shape: [1] }, Buffer.alloc(4)),
    inputErr('SWY_ERR_INPUT_TENSOR_DATATYPE', 'x', /datatype "FLOAT32" is not one of/));
  assert.throws(one({ name: 'x', datatype: 'FP32', shape: [-1] }, Buffer.alloc(4)),
    inputErr('SWY_ERR_INPUT_TENSOR_SHAPE', 'x', /shape\[0\] is "-1"/));
  assert.throws(one({ name: 'x', datatype: 'FP32', shape: [2] }, Buffer.alloc(4)),
    inputErr('SWY_ERR_INPUT_TENSOR_SHAPE', 'x', /needs 8 bytes/));
  assert.throws(one({ name: 'x', datatype: 'BYTES', shape: [1] }, Buffer.from('0300000061', 'hex')),
    inputErr('SWY_ERR_INPUT_TENSOR_SHAPE', 'x', /truncated/));
  assert.throws(one({ name: 'x', datatype: 'INT32', shape: [1], contents: { fp32_contents: [1] } }),
    inputErr('SWY_ERR_INPUT_TENSOR_DATATYPE', 'x', /belongs in int_contents, but fp32_contents is set/));
  assert.throws(one({ name: 'x', datatype: 'FP16', shape: [1], contents: { fp32_contents: [1] } }),
    inputErr('SWY_ERR_INPUT_TENSOR_DATATYPE', 'x', /FP16 must be sent as raw contents/));
});

test('shared-memory inputs are unsupported; inputs without any data are invalid', () => {
  const shm = request({
    inputs: [{
      name: 'sm', datatype: 'FP32', shape: [4],
      parameters: { shared_memory_region: { string_param: 'r0' }, shared_memory_byte_size: { int64_param: 16 } },
    }],
  });
  assert.throws(() => inputsFromRequest(shm), inputErr('SWY_ERR_INPUT_UNSUPPORTED', 'sm', /shared-memory inputs \(parameter shared_memory_region\)/));
  const bare = request({ inputs: [{ name: 'nd', datatype: 'FP32', shape: [4] }] });
  assert.throws(() => inputsFromRequest(bare), inputErr('SWY_ERR_INPUT_INVALID_FIELD', 'nd', /has no data/));
  const empty = request({ inputs: [{ name: 'z', datatype: 'FP32', shape: [0, 4] }] });
  assert.deepEqual(inputsFromRequest(empty), [{ name: 'z', datatype: 'FP32', shape: [0, 4], raw: Buffer.alloc(0) }]);
});

test('outputs from raw_output_contents, as Triton answers', () => {
  const probs = jsonToRaw('p', 'FP32', [1, 3], [0.25, 0.5, 0.25]);
  const labels = joinBytesElements([Buffer.from('cat')]);
  const tensors = outputsFromResponse(response({
    model_name: 'm',
    outputs: [{ name: 'p', datatype: 'FP32', shape: [1, 3] }, { name: 'l', datatype: 'BYTES', shape: [1] }],
    raw_output_contents: [probs, labels],
  }));
  assert.deepEqual(tensors, [
    { name: 'p', datatype: 'FP32', shape: [1, 3], raw: probs },
    { name: 'l', datatype: 'BYTES', shape: [1], raw: labels },
  ]);
  assert.deepEqual(outputsFromResponse(response({ model_name: 'm' })), []);
});

test('outputs from typed contents, as other V2 servers answer', () => {
  const tensors = outputsFromResponse(response({
    outputs: [
      { name: 'n', datatype: 'UINT64', shape: [2], contents: { uint64_contents: ['1', '18446744073709551615'] } },
      { name: 's', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('ok')] } },
      { name: 'e', datatype: 'FP32', shape: [0] },
    ],
  }));
  assert.deepEqual(tensors.map((t) => rawToJson(t.name, t.datatype, t.shape, t.raw)), [[1, 2n ** 64n - 1n], ['ok'], []]);
});

test('upstream inconsistencies are SWY_ERR_UPSTREAM_BAD_RESPONSE, never input errors', () => {
  const fp = jsonToRaw('p', 'FP32', [1], [1]);
  const cases: [ModelInferResponse, RegExp][] = [
    [{ outputs: [{ name: 'p', datatype: 'FP32', shape: [1] }, { name: 'q', datatype: 'FP32', shape: [1] }], raw_output_contents: [fp] },
      /upstream response has 1 raw_output_contents for 2 outputs/],
    [{ outputs: [{ name: 'p', datatype: 'FP32', shape: [2] }], raw_output_contents: [fp] },
      /^upstream output 'p': FP32 shape \[2\] needs 8 bytes \(2 x 4\), got 4 bytes$/],
    [{ outputs: [{ name: 'b', datatype: 'BYTES', shape: [1] }], raw_output_contents: [Buffer.from('09000000', 'hex')] },
      /^upstream output 'b': BYTES element 0 is truncated/],
    [{ outputs: [{ name: 'b', datatype: 'BYTES', shape: [1] }], raw_output_contents: [joinBytesElements([Buffer.from('a'), Buffer.from('b')])] },
      /^upstream output 'b': BYTES shape \[1\] needs 1 elements, but 5 bytes follow/],
    [{ outputs: [{ name: 'p', datatype: 'FLOAT', shape: [1] }], raw_output_contents: [fp] },
      /^upstream output 'p': datatype "FLOAT" is not one of/],
    [{ outputs: [{ name: 'p', datatype: 'FP32', shape: [-1] }], raw_output_contents: [fp] },
      /^upstream output 'p': shape\[0\] is "-1"/],
    [{ outputs: [{ name: 'p', datatype: 'INT32', shape: [1], contents: { fp32_contents: [1] } }] },
      /^upstream output 'p': INT32 data belongs in int_contents, but fp32_contents is set/],
    [{ outputs: [{ name: 'p', datatype: 'INT8', shape: [1], contents: { int_contents: [1000] } }] },
      /^upstream output 'p': INT8 element 0 \(1000\) is outside/],
    [{ outputs: [{ name: 'p', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1] } }] },
      /^upstream output 'p': shape \[2\] needs 2 elements, fp32_contents has 1/],
    [{ outputs: [{ name: 'p', datatype: 'FP16', shape: [1], contents: { fp32_contents: [1] } }] },
      /^upstream output 'p': FP16 must be sent as raw contents/],
    [{ outputs: [{ name: 'p', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }], raw_output_contents: [fp] },
      /^upstream output 'p': sets both contents and raw_output_contents/],
    [{ outputs: [{ name: 'p', datatype: 'FP32', shape: [1] }] },
      /^upstream output 'p': has no data/],
  ];
  for (const [message, expected] of cases) {
    assert.throws(() => outputsFromResponse(response(message)), upstreamErr(expected), expected.source);
  }
});

// Which requests may share a batch: the compatibility key and the requests that must go alone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { prepareBatchable } from '../../../router/batching/batchable-request.js';
import type { ModelInferRequest } from '../../../router/generated/inference/ModelInferRequest.js';
import { mixedRequest, rowsRequest } from './tensor-fixtures.js';

function keyOf(request: ModelInferRequest): string {
  const item = prepareBatchable(request);
  assert.ok(item !== undefined, 'batchable');
  return item.key;
}

const base = (extra: Partial<ModelInferRequest> = {}) => rowsRequest('FP32', 2, 1, extra);

describe('compatibility key', () => {
  test('rows, ids, data and the timeout parameter do not keep requests apart', () => {
    const key = keyOf(base());
    assert.equal(keyOf(rowsRequest('FP32', 5, 2, { id: 'other' })), key);
    assert.equal(keyOf(base({ parameters: { timeout: { int64_param: 1000 } } })), key);
    // Map order and int64 spelt as number or string do not matter either.
    assert.equal(
      keyOf(base({ parameters: { a: { int64_param: 5 }, b: { string_param: 'x' } } })),
      keyOf(base({ parameters: { b: { string_param: 'x' }, a: { int64_param: '5', parameter_choice: 'int64_param' } } })),
    );
  });

  const apart: Record<string, ModelInferRequest> = {
    'another datatype': rowsRequest('FP64', 2, 1),
    'another non-batch dim': { ...base(), inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 2] }] },
    'another input name': { ...base(), inputs: [{ name: 'y', datatype: 'FP32', shape: [2, 3] }] },
    'input parameters': { ...base(), inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 3], parameters: { p: { bool_param: true } } }] },
    'requested outputs': base({ outputs: [{ name: 'x' }] }),
    'output parameters': base({ outputs: [{ name: 'x', parameters: { classification: { int64_param: 2 } } }] }),
    'request parameters': base({ parameters: { custom: { string_param: 'a' } } }),
    'priority': base({ parameters: { priority: { uint64_param: 1 } } }),
  };
  for (const [what, request] of Object.entries(apart)) {
    test(`${what} keep requests apart`, () => assert.notEqual(keyOf(request), keyOf(base())));
  }

  test('the same inputs in another order keep requests apart', () => {
    const mixed = mixedRequest(1, 1);
    const reversed = { ...mixed, inputs: [...(mixed.inputs ?? [])].reverse(), raw_input_contents: [...(mixed.raw_input_contents ?? [])].reverse() };
    assert.notEqual(keyOf(reversed), keyOf(mixed));
  });

  const alone: Record<string, ModelInferRequest> = {
    'no inputs': { model_name: 'm', inputs: [] },
    'inputs disagreeing on dimension 0': {
      ...mixedRequest(2, 1),
      inputs: mixedRequest(2, 1).inputs?.map((input, i) => (i === 1 ? { ...input, shape: [1, 6] } : input)),
    },
    'a scalar input': { model_name: 'm', inputs: [{ name: 'x', datatype: 'INT32', shape: [] }], raw_input_contents: [Buffer.alloc(4)] },
    'zero rows': { model_name: 'm', inputs: [{ name: 'x', datatype: 'INT32', shape: [0, 3] }], raw_input_contents: [Buffer.alloc(0)] },
    'raw bytes that do not match the shape': { ...base(), raw_input_contents: [Buffer.alloc(5)] },
    'a negative dim': { ...base(), inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }] },
    'an unknown datatype': { ...base(), inputs: [{ name: 'x', datatype: 'FP8', shape: [2, 3] }] },
    'base64 raw contents': { ...base(), raw_input_contents: ['AAAA'] },
    'sequence parameters': base({ parameters: { sequence_id: { uint64_param: 7 } } }),
  };
  for (const [what, request] of Object.entries(alone)) {
    test(`${what}: not batchable, sent alone`, () => assert.equal(prepareBatchable(request), undefined));
  }
});

// parseDatatype, parseShape and elementCount: what the wire may say about a tensor before its data is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATATYPES } from '../../../../router/core/datatype.js';
import { elementCount, parseDatatype, parseShape } from '../../../../router/adapters/kserve-tensor/index.js';

test('elementCount is the product of dims, 1 for a scalar', () => {
  assert.equal(elementCount([]), 1);
  assert.equal(elementCount([7]), 7);
  assert.equal(elementCount([2, 3, 4]), 24);
  assert.equal(elementCount([2, 0, 4]), 0);
  assert.equal(elementCount([0]), 0);
});

test('parseDatatype accepts every V2 datatype, case-sensitively', () => {
  for (const datatype of DATATYPES) assert.equal(parseDatatype('x', datatype), datatype);
});

test('parseDatatype rejects anything else, naming the tensor and listing valid types', () => {
  for (const bad of ['FLOAT', 'fp32', 'TYPE_FP32', 'STRING', '', 42, null, undefined, ['FP32']]) {
    assert.throws(() => parseDatatype('in0', bad), {
      name: 'SwitchyardError',
      code: 'SWY_ERR_INPUT_TENSOR_DATATYPE',
      message: /^input 'in0': datatype .* is not one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES, BF16$/,
    }, String(bad));
  }
});

test('parseShape accepts numbers and the decimal strings proto-loader produces for int64', () => {
  assert.deepEqual(parseShape('x', []), []);
  assert.deepEqual(parseShape('x', [1, 2, 3]), [1, 2, 3]);
  assert.deepEqual(parseShape('x', ['1', '0', '16']), [1, 0, 16]);
  assert.deepEqual(parseShape('x', [String(2 ** 53 - 1)]), [2 ** 53 - 1]);
  const input = [2, 3];
  const parsed = parseShape('x', input);
  assert.notEqual(parsed, input); // a fresh array: callers may keep it
  assert.ok(Object.is(parseShape('x', [-0])[0], 0));
});

test('parseShape rejects negative, fractional, unsafe and non-numeric dims naming the tensor and the dim', () => {
  const bad: [unknown[], RegExp][] = [
    [[-1], /shape\[0\] is -1/],
    [[2, '-1'], /shape\[1\] is "-1"/],
    [[1.5], /shape\[0\] is 1.5/],
    [[2 ** 53], /shape\[0\] is 9007199254740992/],
    [['9007199254740992'], /shape\[0\]/],
    [['1e3'], /shape\[0\] is "1e3"/],
    [[' 2'], /shape\[0\]/],
    [[''], /shape\[0\]/],
    [['0x10'], /shape\[0\]/],
    [[Number.NaN], /shape\[0\] is NaN/],
    [[Infinity], /shape\[0\] is Infinity/],
    [[null], /shape\[0\] is null/],
    [[true], /shape\[0\] is true/],
    [[[2]], /shape\[0\] is an array/],
    [[2n], /shape\[0\] is 2n/],
  ];
  for (const [shape, message] of bad) {
    assert.throws(() => parseShape('in1', shape), { code: 'SWY_ERR_INPUT_TENSOR_SHAPE', message: new RegExp(`^input 'in1': ${message.source}`) }, String(shape));
  }
  for (const notArray of [undefined, null, 3, '2,2', { length: 1, 0: 1 }]) {
    assert.throws(() => parseShape('in1', notArray), { code: 'SWY_ERR_INPUT_TENSOR_SHAPE', message: /^input 'in1': shape must be an array/ });
  }
});

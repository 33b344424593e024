// contentsToRaw / rawToContents: typed InferTensorContents fields per datatype, in proto-loader's decoded form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATATYPES, type Datatype } from '../../../../router/core/datatype.js';
import type { InferTensorContents__Output } from '../../../../router/generated/inference/InferTensorContents.js';
import {
  contentsField, contentsToRaw, jsonToRaw, rawToContents, rawToJson,
} from '../../../../router/adapters/kserve-tensor/index.js';

/** What proto-loader yields with defaults: true — every repeated field present, unused ones empty. */
function decoded(fields: Partial<InferTensorContents__Output>): InferTensorContents__Output {
  return {
    bool_contents: [], int_contents: [], int64_contents: [], uint_contents: [], uint64_contents: [],
    fp32_contents: [], fp64_contents: [], bytes_contents: [], ...fields,
  };
}

const typeErr = (name: string, message: RegExp) => ({ name: 'SwitchyardError', code: 'SWY_ERR_INPUT_TENSOR_DATATYPE', message: new RegExp(`^input '${name}': .*${message.source}`) });

test('each datatype uses its §1.3 contents field', () => {
  const expected: Record<Datatype, string | undefined> = {
    BOOL: 'bool_contents', UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents',
    UINT64: 'uint64_contents', INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents',
    INT64: 'int64_contents', FP16: undefined, FP32: 'fp32_contents', FP64: 'fp64_contents',
    BYTES: 'bytes_contents', BF16: undefined,
  };
  for (const datatype of DATATYPES) assert.equal(contentsField(datatype), expected[datatype], datatype);
});

test('rawToContents fills only the datatype field, with 64-bit ints as decimal strings', () => {
  const cases: [Datatype, unknown[], Partial<InferTensorContents__Output>][] = [
    ['BOOL', [true, false], { bool_contents: [true, false] }],
    ['INT8', [-128, 127], { int_contents: [-128, 127] }],
    ['INT16', [-32768, 5], { int_contents: [-32768, 5] }],
    ['INT32', [-(2 ** 31), 2 ** 31 - 1], { int_contents: [-(2 ** 31), 2 ** 31 - 1] }],
    ['UINT8', [0, 255], { uint_contents: [0, 255] }],
    ['UINT16', [65535, 1], { uint_contents: [65535, 1] }],
    ['UINT32', [2 ** 32 - 1, 0], { uint_contents: [2 ** 32 - 1, 0] }],
    ['INT64', [-(2n ** 63n), 2n ** 63n - 1n], { int64_contents: ['-9223372036854775808', '9223372036854775807'] }],
    ['UINT64', [2n ** 64n - 1n, 3], { uint64_contents: ['18446744073709551615', '3'] }],
    ['FP32', [1.5, -0.25], { fp32_contents: [1.5, -0.25] }],
    ['FP64', [0.1, -1e300], { fp64_contents: [0.1, -1e300] }],
    ['BYTES', ['a\u0000', '👍'], { bytes_contents: [Buffer.from('a\u0000'), Buffer.from('👍')] }],
  ];
  for (const [datatype, data, fields] of cases) {
    const raw = jsonToRaw('c', datatype, [2], data);
    assert.deepEqual(rawToContents('c', datatype, [2], raw), fields, datatype);
  }
});

test('every datatype with a typed field round-trips raw -> contents -> raw', () => {
  const samples: Record<Datatype, unknown[]> = {
    BOOL: [true, false, true, true], UINT8: [0, 1, 200, 255], UINT16: [0, 9, 60000, 65535],
    UINT32: [0, 7, 2 ** 31, 2 ** 32 - 1], UINT64: ['0', '9007199254740993', '18446744073709551615', 1],
    INT8: [-128, -1, 0, 127], INT16: [-32768, -1, 0, 32767], INT32: [-(2 ** 31), -1, 0, 2 ** 31 - 1],
    INT64: ['-9223372036854775808', '-1', 0, '9223372036854775807'], FP16: [1, 2, 3, 4],
    FP32: [1.5, -0.1, Infinity, 3.4028234663852886e38], FP64: [Math.PI, -0, Number.MIN_VALUE, Number.MAX_VALUE],
    BYTES: ['', 'x', '\u0000\u0000', '日本'], BF16: [1, 2, 3, 4],
  };
  for (const datatype of DATATYPES) {
    if (contentsField(datatype) === undefined) continue;
    const raw = jsonToRaw('c', datatype, [2, 2], samples[datatype]);
    const contents = decoded(rawToContents('c', datatype, [2, 2], raw) as Partial<InferTensorContents__Output>);
    assert.deepEqual(contentsToRaw('c', datatype, [2, 2], contents), raw, datatype);
  }
});

test('contentsToRaw reads proto-loader int64/uint64 strings and range-checks them', () => {
  const raw = contentsToRaw('c', 'INT64', [2], decoded({ int64_contents: ['-9223372036854775808', '9223372036854775807'] }));
  assert.equal(raw.toString('hex'), '0000000000000080ffffffffffffff7f');
  assert.deepEqual(rawToJson('c', 'INT64', [2], raw), [-(2n ** 63n), 2n ** 63n - 1n]);
  assert.equal(contentsToRaw('c', 'UINT64', [1], decoded({ uint64_contents: ['18446744073709551615'] })).toString('hex'), 'ffffffffffffffff');
  assert.throws(() => contentsToRaw('c', 'INT64', [1], decoded({ int64_contents: ['9223372036854775808'] })), typeErr('c', /INT64 element 0 .* is outside/));
  assert.throws(() => contentsToRaw('c', 'UINT64', [1], decoded({ uint64_contents: ['-1'] })), typeErr('c', /UINT64 element 0 .* is outside/));
  assert.throws(() => contentsToRaw('c', 'UINT64', [1], decoded({ uint64_contents: ['abc'] })), typeErr('c', /must be an integer/));
});

test('int32/uint32 contents are range-checked for the narrower types they carry', () => {
  const bad: [Datatype, Partial<InferTensorContents__Output>, RegExp][] = [
    ['INT8', { int_contents: [0, 128] }, /INT8 element 1 \(128\) is outside \[-128, 127\]/],
    ['INT16', { int_contents: [-32769, 0] }, /INT16 element 0 \(-32769\) is outside/],
    ['UINT8', { uint_contents: [256, 0] }, /UINT8 element 0 \(256\) is outside \[0, 255\]/],
    ['UINT16', { uint_contents: [0, 65536] }, /UINT16 element 1 \(65536\) is outside/],
  ];
  for (const [datatype, fields, message] of bad) {
    assert.throws(() => contentsToRaw('narrow', datatype, [2], decoded(fields)), typeErr('narrow', message), datatype);
  }
});

test('FP16 and BF16 have no typed field: both directions refuse', () => {
  for (const datatype of ['FP16', 'BF16'] as const) {
    const message = new RegExp(`^input 'h': ${datatype} must be sent as raw contents`);
    assert.throws(() => contentsToRaw('h', datatype, [1], decoded({ fp32_contents: [1] })), { code: 'SWY_ERR_INPUT_TENSOR_DATATYPE', message });
    assert.throws(() => contentsToRaw('h', datatype, [0], decoded({})), { code: 'SWY_ERR_INPUT_TENSOR_DATATYPE', message });
    assert.throws(() => rawToContents('h', datatype, [1], Buffer.alloc(2)), { code: 'SWY_ERR_INPUT_TENSOR_DATATYPE', message });
  }
});

test('a contents field of the wrong kind is a datatype error naming both fields', () => {
  const bad: [Datatype, Partial<InferTensorContents__Output>, RegExp][] = [
    ['INT32', { fp32_contents: [1] }, /INT32 data belongs in int_contents, but fp32_contents is set/],
    ['INT32', { int_contents: [1], uint_contents: [1] }, /INT32 data belongs in int_contents, but uint_contents is set/],
    ['UINT32', { int_contents: [1] }, /UINT32 data belongs in uint_contents, but int_contents is set/],
    ['INT64', { int_contents: [1] }, /belongs in int64_contents, but int_contents is set/],
    ['FP64', { fp32_contents: [1] }, /belongs in fp64_contents, but fp32_contents is set/],
    ['BYTES', { bool_contents: [true] }, /belongs in bytes_contents, but bool_contents is set/],
    ['BOOL', { bytes_contents: [Buffer.from('1')] }, /belongs in bool_contents, but bytes_contents is set/],
  ];
  for (const [datatype, fields, message] of bad) {
    assert.throws(() => contentsToRaw('k', datatype, [1], decoded(fields)), typeErr('k', message), datatype);
  }
});

test('contents element count must match the shape', () => {
  assert.throws(() => contentsToRaw('n', 'FP32', [2, 2], decoded({ fp32_contents: [1, 2, 3] })),
    { code: 'SWY_ERR_INPUT_TENSOR_SHAPE', message: "input 'n': shape [2,2] needs 4 elements, fp32_contents has 3" });
  assert.throws(() => contentsToRaw('n', 'BYTES', [1], decoded({})),
    { code: 'SWY_ERR_INPUT_TENSOR_SHAPE', message: "input 'n': shape [1] needs 1 elements, bytes_contents has 0" });
});

test('contents elements of the wrong JS type are rejected (hand-built objects, not just decoded ones)', () => {
  const handBuilt = { ...decoded({}), bytes_contents: ['not bytes'] } as unknown as InferTensorContents__Output;
  assert.throws(() => contentsToRaw('j', 'BYTES', [1], handBuilt), typeErr('j', /BYTES element 0 \("not bytes"\) must be bytes/));
  const bools = { ...decoded({}), bool_contents: [1] } as unknown as InferTensorContents__Output;
  assert.throws(() => contentsToRaw('j', 'BOOL', [1], bools), typeErr('j', /BOOL element 0 \(1\) must be a boolean/));
  // Fields left out entirely (not decoded with defaults) count as empty.
  const sparse = { int_contents: [1, 2] } as unknown as InferTensorContents__Output;
  assert.equal(contentsToRaw('j', 'INT32', [2], sparse).toString('hex'), '0100000002000000');
});

test('empty tensors: empty contents give empty raw and back', () => {
  for (const datatype of DATATYPES) {
    if (contentsField(datatype) === undefined) continue;
    assert.equal(contentsToRaw('e', datatype, [0, 4], decoded({})).length, 0, datatype);
    const field = contentsField(datatype) as keyof InferTensorContents__Output;
    assert.deepEqual(rawToContents('e', datatype, [2, 0], Buffer.alloc(0)), { [field]: [] }, datatype);
  }
});

test('rawToContents validates raw first', () => {
  assert.throws(() => rawToContents('v', 'INT32', [2], Buffer.alloc(4)), { code: 'SWY_ERR_INPUT_TENSOR_SHAPE', message: /^input 'v': INT32 shape \[2\] needs 8 bytes/ });
  assert.throws(() => rawToContents('v', 'BYTES', [1], Buffer.from('01000000', 'hex')), { code: 'SWY_ERR_INPUT_TENSOR_SHAPE', message: /^input 'v': BYTES element 0 is truncated/ });
});

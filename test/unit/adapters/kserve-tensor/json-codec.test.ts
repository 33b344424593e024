// jsonToRaw / rawToJson: wire bytes for known values, round trips per datatype, nesting, empty tensors and every error path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATATYPES, type Datatype } from '../../../../router/core/datatype.js';
import { jsonToRaw, rawToJson, type JsonElement } from '../../../../router/adapters/kserve-tensor/index.js';

const hex = (buf: Buffer): string => buf.toString('hex');
const shapeErr = (name: string, fragment?: RegExp) => ({ name: 'SwitchyardError', code: 'SWY_ERR_INPUT_TENSOR_SHAPE', message: fragment ?? new RegExp(`input '${name}'`) });
const typeErr = (name: string, fragment?: RegExp) => ({ name: 'SwitchyardError', code: 'SWY_ERR_INPUT_TENSOR_DATATYPE', message: fragment ?? new RegExp(`input '${name}'`) });

test('known values encode to the documented little-endian bytes', () => {
  const cases: [Datatype, unknown[], string][] = [
    ['FP32', [1.5], '0000c03f'],
    ['FP16', [1.0], '003c'],
    ['BF16', [1.0], '803f'],
    ['BYTES', ['ab'], '020000006162'],
    ['BYTES', ['', 'é'], '0000000002000000c3a9'],
    ['BOOL', [true, false, true], '010001'],
    ['INT8', [-128, 127, -1], '807fff'],
    ['UINT8', [0, 255], '00ff'],
    ['INT16', [-2, 0x1234], 'feff3412'],
    ['UINT16', [0x1234, 65535], '3412ffff'],
    ['INT32', [-2, 0x01020304], 'feffffff04030201'],
    ['UINT32', [4294967295, 1], 'ffffffff01000000'],
    ['INT64', [-1], 'ffffffffffffffff'],
    ['INT64', [0x0102030405060708n], '0807060504030201'],
    ['INT64', [-(2 ** 53) + 1], '010000000000e0ff'],
    ['UINT64', ['18446744073709551615'], 'ffffffffffffffff'],
    ['UINT64', [2 ** 32 + 5], '0500000001000000'],
    ['FP64', [1.0], '000000000000f03f'],
    ['FP64', [-0], '0000000000000080'],
  ];
  for (const [datatype, data, expected] of cases) {
    assert.equal(hex(jsonToRaw('x', datatype, [data.length], data)), expected, `${datatype} ${String(data)}`);
  }
});

test('every datatype round-trips through raw bytes', () => {
  const samples: Record<Datatype, { in: unknown[]; out?: JsonElement[] }> = {
    BOOL: { in: [true, false, false, true] },
    UINT8: { in: [0, 1, 254, 255] },
    UINT16: { in: [0, 1, 65534, 65535] },
    UINT32: { in: [0, 1, 2 ** 31, 2 ** 32 - 1] },
    UINT64: { in: [0, 2 ** 53 - 1, '18446744073709551615', 2n ** 63n], out: [0, 2 ** 53 - 1, 2n ** 64n - 1n, 2n ** 63n] },
    INT8: { in: [-128, -1, 0, 127] },
    INT16: { in: [-32768, -1, 0, 32767] },
    INT32: { in: [-(2 ** 31), -1, 0, 2 ** 31 - 1] },
    INT64: { in: [-(2n ** 63n), '-1', 42, '9223372036854775807'], out: [-(2n ** 63n), -1, 42, 2n ** 63n - 1n] },
    FP16: { in: [1, -2.5, 65504, 0.1], out: [1, -2.5, 65504, 0.0999755859375] },
    FP32: { in: [1.5, -0.1, 3.4028234663852886e38, 1e-45], out: [1.5, Math.fround(-0.1), 3.4028234663852886e38, Math.fround(1e-45)] },
    FP64: { in: [1.5, -0.1, Number.MAX_VALUE, Number.MIN_VALUE] },
    BYTES: { in: ['hello', '', 'a\u0000b', '日本語 ✓ 👍🏽'] },
    BF16: { in: [1, -2, 3.140625, 0.1], out: [1, -2, 3.140625, 0.10009765625] },
  };
  assert.deepEqual(Object.keys(samples).sort(), [...DATATYPES].sort());
  for (const datatype of DATATYPES) {
    const sample = samples[datatype];
    const raw = jsonToRaw('x', datatype, [2, 2], sample.in);
    assert.deepEqual(rawToJson('x', datatype, [2, 2], raw), sample.out ?? sample.in, datatype);
  }
});

test('floating point specials survive every float type', () => {
  for (const datatype of ['FP16', 'BF16', 'FP32', 'FP64'] as const) {
    const back = rawToJson('x', datatype, [4], jsonToRaw('x', datatype, [4], [Number.NaN, Infinity, -Infinity, -0]));
    assert.ok(Number.isNaN(back[0]), datatype);
    assert.equal(back[1], Infinity, datatype);
    assert.equal(back[2], -Infinity, datatype);
    assert.ok(Object.is(back[3], -0), datatype);
  }
  assert.deepEqual(rawToJson('x', 'FP16', [2], jsonToRaw('x', 'FP16', [2], [1e6, 65520])), [Infinity, Infinity]);
  assert.deepEqual(rawToJson('x', 'FP32', [1], jsonToRaw('x', 'FP32', [1], [1e39])), [Infinity]);
});

test('64-bit integers: extremes, the safe-integer boundary and accepted spellings', () => {
  const int64 = (data: unknown[]) => rawToJson('x', 'INT64', [data.length], jsonToRaw('x', 'INT64', [data.length], data));
  const uint64 = (data: unknown[]) => rawToJson('x', 'UINT64', [data.length], jsonToRaw('x', 'UINT64', [data.length], data));
  assert.deepEqual(int64(['9223372036854775807', '-9223372036854775808']), [2n ** 63n - 1n, -(2n ** 63n)]);
  assert.deepEqual(int64([2n ** 63n - 1n, -(2n ** 63n)]), [2n ** 63n - 1n, -(2n ** 63n)]);
  assert.deepEqual(uint64(['18446744073709551615', 2n ** 64n - 1n, '0']), [2n ** 64n - 1n, 2n ** 64n - 1n, 0]);
  // Safe integers come back as numbers, the first unsafe ones as bigint.
  assert.deepEqual(int64([2 ** 53 - 1, -(2 ** 53 - 1), '9007199254740992', -(2n ** 53n)]),
    [2 ** 53 - 1, -(2 ** 53 - 1), 2n ** 53n, -(2n ** 53n)]);
  assert.deepEqual(uint64([2 ** 53 - 1, '9007199254740993']), [2 ** 53 - 1, 2n ** 53n + 1n]);
  // 15 digits take the Number() shortcut; 16 must not, or 2^53 + 1 would silently become 2^53.
  assert.deepEqual(int64(['999999999999999', '-999999999999999', '-9007199254740993', '9007199254740993']),
    [999999999999999, -999999999999999, -(2n ** 53n) - 1n, 2n ** 53n + 1n]);
  // Integral but unsafe doubles are exact powers here; they are range-checked with BigInt.
  assert.deepEqual(int64([2 ** 60, -(2 ** 63)]), [2n ** 60n, -(2n ** 63n)]);
  assert.deepEqual(int64(['-0', '007', -0]), [0, 7, 0]);
});

test('64-bit integers out of range or not integers are datatype errors naming tensor, type and element', () => {
  const bad: [Datatype, unknown, RegExp][] = [
    ['INT64', '9223372036854775808', /input 'big': INT64 element 1 \("9223372036854775808"\) is outside \[-9223372036854775808, 9223372036854775807\]/],
    ['INT64', -(2n ** 63n) - 1n, /INT64 element 1 \(-9223372036854775809n\) is outside/],
    ['INT64', 2 ** 63, /INT64 element 1 \(9223372036854776000\) is outside/],
    ['UINT64', -1, /UINT64 element 1 \(-1\) is outside \[0, 18446744073709551615\]/],
    ['UINT64', '-1', /UINT64 element 1 .* is outside/],
    ['UINT64', '18446744073709551616', /UINT64 element 1 .* is outside/],
    ['UINT64', 2n ** 64n, /UINT64 element 1 .* is outside/],
    ['INT64', 1.5, /INT64 element 1 \(1.5\) must be an integer/],
    ['INT64', '1.5', /must be an integer/],
    ['INT64', '', /must be an integer/],
    ['INT64', ' 1', /must be an integer/],
    ['INT64', '0x10', /must be an integer/],
    ['INT64', '1e3', /must be an integer/],
    ['INT64', '123456789012345678901', /must be an integer/],
    ['UINT64', true, /UINT64 element 1 \(true\) must be an integer/],
    ['UINT64', null, /must be an integer/],
  ];
  for (const [datatype, value, message] of bad) {
    assert.throws(() => jsonToRaw('big', datatype, [2], [0, value]), typeErr('big', message), `${datatype} ${String(value)}`);
  }
});

test('small integer ranges are enforced per type', () => {
  const bad: [Datatype, number][] = [
    ['INT8', 128], ['INT8', -129], ['UINT8', -1], ['UINT8', 256], ['INT16', 32768], ['INT16', -32769],
    ['UINT16', 65536], ['INT32', 2 ** 31], ['INT32', -(2 ** 31) - 1], ['UINT32', 2 ** 32], ['UINT32', -1],
  ];
  for (const [datatype, value] of bad) {
    assert.throws(() => jsonToRaw('t', datatype, [3], [0, 0, value]),
      typeErr('t', new RegExp(`input 't': ${datatype} element 2 \\(${value}\\) is outside \\[`)), `${datatype} ${value}`);
  }
});

test('elements of the wrong JSON type are rejected with tensor, datatype and index', () => {
  const bad: [Datatype, unknown, RegExp][] = [
    ['BOOL', 1, /input 'w': BOOL element 0 \(1\) must be a boolean/],
    ['BOOL', 'true', /BOOL element 0 \("true"\) must be a boolean/],
    ['INT32', 1.5, /INT32 element 0 \(1.5\) must be an integer/],
    ['INT32', true, /INT32 element 0 \(true\) must be an integer/],
    ['INT8', '1', /INT8 element 0 \("1"\) must be an integer/],
    ['UINT16', Number.NaN, /UINT16 element 0 \(NaN\) must be an integer/],
    ['FP32', '1.5', /FP32 element 0 \("1.5"\) must be a number/],
    ['FP64', null, /FP64 element 0 \(null\) must be a number/],
    ['FP16', {}, /FP16 element 0 \(a value of type object\) must be a number/],
    ['BF16', false, /BF16 element 0 \(false\) must be a number/],
    ['BYTES', 5, /BYTES element 0 \(5\) must be a string/],
    ['BYTES', Buffer.from('x'), /BYTES element 0 \(a byte array\) must be a string/],
  ];
  for (const [datatype, value, message] of bad) {
    assert.throws(() => jsonToRaw('w', datatype, [1], [value]), typeErr('w', message), `${datatype} ${String(value)}`);
  }
  const long = 'z'.repeat(1000);
  assert.throws(() => jsonToRaw('w', 'INT32', [1], [long]), (err: Error) => err.message.length < 200);
});

test('nested (natural shape) and flat data give identical bytes', () => {
  const flat = [1, 2, 3, 4, 5, 6];
  assert.deepEqual(jsonToRaw('x', 'INT32', [2, 3], [[1, 2, 3], [4, 5, 6]]), jsonToRaw('x', 'INT32', [2, 3], flat));
  assert.deepEqual(jsonToRaw('x', 'INT32', [3, 2], [[1, 2], [3, 4], [5, 6]]), jsonToRaw('x', 'INT32', [6], flat));
  const cube = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]];
  assert.deepEqual(rawToJson('x', 'FP32', [2, 2, 2], jsonToRaw('x', 'FP32', [2, 2, 2], cube)), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(rawToJson('x', 'BYTES', [2, 1], jsonToRaw('x', 'BYTES', [2, 1], [['a'], ['bc']])), ['a', 'bc']);
  assert.deepEqual(rawToJson('x', 'BOOL', [1, 1], jsonToRaw('x', 'BOOL', [1, 1], [[true]])), [true]);
  assert.deepEqual(rawToJson('x', 'INT8', [], jsonToRaw('x', 'INT8', [], [7])), [7]); // scalar
});

test('nesting that disagrees with the shape is a shape error naming the tensor', () => {
  const bad: [number[], unknown, RegExp][] = [
    [[2, 2], [[1, 2], [3]], /input 'n': data nesting does not match shape \[2,2\]: data\[1\] has 1 entries, expected 2/],
    [[2, 2], [[1, 2]], /data has 1 entries, expected 2/],
    [[2, 2], [[1, 2], 3], /data\[1\] is 3, expected an array/],
    [[2, 2, 2], [[1, 2, 3, 4], [5, 6, 7, 8]], /data\[0\] has 4 entries, expected 2/], // half-nested
    [[2, 2], [[[1], [2]], [[3], [4]]], /element 0 is an array: data is nested deeper than the shape/],
    [[2], [[1], [2]], /element 0 is an array/], // 1-D tensors take flat data only
    [[2, 2], [1, 2, [3], 4], /element 2 is an array/],
  ];
  for (const [shape, data, message] of bad) {
    assert.throws(() => jsonToRaw('n', 'INT32', shape, data), shapeErr('n', message), JSON.stringify(data));
  }
});

test('element count must match the shape', () => {
  assert.throws(() => jsonToRaw('x', 'FP32', [2, 4], [1, 2, 3, 4, 5, 6, 7]),
    { code: 'SWY_ERR_INPUT_TENSOR_SHAPE', message: "input 'x': shape [2,4] needs 8 elements, data has 7" });
  assert.throws(() => jsonToRaw('x', 'BYTES', [1], ['a', 'b']), shapeErr('x', /shape \[1\] needs 1 elements, data has 2/));
  assert.throws(() => jsonToRaw('x', 'INT8', [], []), shapeErr('x', /shape \[\] needs 1 elements, data has 0/));
  assert.throws(() => jsonToRaw('x', 'INT8', [0], [1]), shapeErr('x', /needs 0 elements, data has 1/));
});

test('data that is not an array is an invalid field naming the tensor', () => {
  for (const data of [undefined, null, 5, 'abc', { 0: 1 }]) {
    assert.throws(() => jsonToRaw('d', 'INT32', [1], data),
      { code: 'SWY_ERR_INPUT_INVALID_FIELD', message: /^input 'd': data must be an array/ }, String(data));
  }
});

test('empty tensors encode to zero bytes for every datatype', () => {
  for (const datatype of DATATYPES) {
    for (const [shape, data] of [[[0], []], [[2, 0], []], [[2, 0], [[], []]], [[0, 3], []], [[3, 0, 2], [[], [], []]]] as const) {
      const raw = jsonToRaw('e', datatype, shape, data);
      assert.equal(raw.length, 0, `${datatype} ${JSON.stringify(shape)}`);
      assert.deepEqual(rawToJson('e', datatype, shape, raw), []);
    }
  }
});

test('BYTES keeps NULs, multi-byte UTF-8, emoji and empty strings exactly', () => {
  const strings = ['', '\u0000', 'a\u0000b\u0000', 'héllo', 'Ω≈ç√', '日本語', '👍🏽', '🏳️‍🌈', 'x'.repeat(70000)];
  const raw = jsonToRaw('s', 'BYTES', [strings.length], strings);
  assert.deepEqual(rawToJson('s', 'BYTES', [strings.length], raw), strings);
  const emoji = jsonToRaw('s', 'BYTES', [1], ['👍']);
  assert.equal(hex(emoji), '04000000f09f918d');
  const nul = jsonToRaw('s', 'BYTES', [2], ['a\u0000', '']);
  assert.equal(hex(nul), '02000000610000000000');
});

test('rawToJson decodes BYTES that are not UTF-8 with replacement characters', () => {
  const raw = Buffer.from('02000000ff61', 'hex');
  assert.deepEqual(rawToJson('s', 'BYTES', [1], raw), ['\ufffda']);
});

test('rawToJson validates before decoding', () => {
  assert.throws(() => rawToJson('r', 'FP32', [2], Buffer.alloc(7)), shapeErr('r', /FP32 shape \[2\] needs 8 bytes \(2 x 4\), got 7 bytes/));
  assert.throws(() => rawToJson('r', 'BYTES', [1], Buffer.from('0500000061', 'hex')), shapeErr('r', /truncated/));
});

test('rawToJson reads unaligned views, as gRPC hands them out', () => {
  const backing = Buffer.alloc(1 + 8 * 3);
  const view = backing.subarray(1);
  jsonToRaw('u', 'FP64', [3], [1.25, -2, 3e100]).copy(view);
  assert.deepEqual(rawToJson('u', 'FP64', [3], view), [1.25, -2, 3e100]);
  jsonToRaw('u', 'INT64', [3], [-5, 2n ** 62n, 7]).copy(view);
  assert.deepEqual(rawToJson('u', 'INT64', [3], view), [-5, 2n ** 62n, 7]);
});

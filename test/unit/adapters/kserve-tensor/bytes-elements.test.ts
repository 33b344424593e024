// BYTES framing and raw validation: split/join, truncation, trailing bytes, element counts, fixed-size lengths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATATYPES, elementBytes } from '../../../../router/core/datatype.js';
import { joinBytesElements, splitBytesElements, validateRaw } from '../../../../router/adapters/kserve-tensor/index.js';

const shapeErr = (name: string, message: RegExp) => ({ name: 'SwitchyardError', code: 'SWY_ERR_INPUT_TENSOR_SHAPE', message: new RegExp(`^input '${name}': .*${message.source}`) });

test('joinBytesElements frames each element with a uint32 LE length', () => {
  assert.equal(joinBytesElements([Buffer.from('ab')]).toString('hex'), '020000006162');
  assert.equal(joinBytesElements([new Uint8Array([0, 255]), Buffer.alloc(0), Buffer.from([1])]).toString('hex'),
    '0200000000ff000000000100000001');
  assert.equal(joinBytesElements([]).length, 0);
  const big = Buffer.alloc(0x10203, 7);
  const framed = joinBytesElements([big]);
  assert.equal(framed.readUInt32LE(0), 0x10203);
  assert.equal(framed.length, 4 + 0x10203);
});

test('splitBytesElements returns views of each element and inverts join', () => {
  const elements = [Buffer.from([0, 0, 0]), Buffer.alloc(0), Buffer.from('héllo'), Buffer.from([0xff, 0xfe])];
  const raw = joinBytesElements(elements);
  const split = splitBytesElements('b', raw);
  assert.deepEqual(split, elements);
  assert.equal(split[2]?.buffer, raw.buffer); // no copy
  assert.deepEqual(splitBytesElements('b', Buffer.alloc(0)), []);
});

test('splitBytesElements rejects truncated length prefixes and bodies, naming the tensor', () => {
  assert.throws(() => splitBytesElements('b', Buffer.from('020000', 'hex')),
    shapeErr('b', /BYTES element 0 is truncated: its 4-byte length starts at byte 0 of 3/));
  assert.throws(() => splitBytesElements('b', Buffer.from('050000006162', 'hex')),
    shapeErr('b', /BYTES element 0 is truncated: it declares 5 bytes but only 2 remain/));
  assert.throws(() => splitBytesElements('b', Buffer.from('0100000061ff', 'hex')),
    shapeErr('b', /BYTES element 1 is truncated: its 4-byte length starts at byte 5 of 6/));
  assert.throws(() => splitBytesElements('b', Buffer.from('ffffffff61', 'hex')), shapeErr('b', /declares 4294967295 bytes/));
});

test('validateRaw accepts BYTES framing that matches the shape exactly', () => {
  validateRaw('b', 'BYTES', [2, 2], joinBytesElements([Buffer.from('a'), Buffer.alloc(0), Buffer.from('\u0000'), Buffer.from('👍')]));
  validateRaw('b', 'BYTES', [0], Buffer.alloc(0));
  validateRaw('b', 'BYTES', [3, 0], Buffer.alloc(0));
  validateRaw('b', 'BYTES', [], joinBytesElements([Buffer.from('scalar')]));
});

test('validateRaw rejects BYTES with the wrong element count, trailing bytes or truncation', () => {
  const two = joinBytesElements([Buffer.from('a'), Buffer.from('bc')]);
  assert.throws(() => validateRaw('b', 'BYTES', [3], two), shapeErr('b', /BYTES shape \[3\] needs 3 elements \(at least 12 bytes\), got 11 bytes/));
  assert.throws(() => validateRaw('b', 'BYTES', [2], Buffer.concat([joinBytesElements([Buffer.from('a')]), Buffer.alloc(4)]).subarray(0, 8)),
    shapeErr('b', /BYTES element 1 is truncated/));
  assert.throws(() => validateRaw('b', 'BYTES', [1], two), shapeErr('b', /BYTES shape \[1\] needs 1 elements, but 6 bytes follow the last of them/));
  assert.throws(() => validateRaw('b', 'BYTES', [2], Buffer.concat([two, Buffer.from([0, 0])])), shapeErr('b', /2 bytes follow/));
  assert.throws(() => validateRaw('b', 'BYTES', [0], two), shapeErr('b', /needs 0 elements, but 11 bytes follow/));
  assert.throws(() => validateRaw('b', 'BYTES', [2], Buffer.from('0000000000000000', 'hex').subarray(0, 7)), shapeErr('b', /needs 2 elements \(at least 8 bytes\)/));
  // Enough bytes for the count check, but the first element swallows them all.
  assert.throws(() => validateRaw('b', 'BYTES', [2], Buffer.from('0400000061626364', 'hex')), shapeErr('b', /needs 2 elements, got 1$/));
  assert.throws(() => validateRaw('b', 'BYTES', [2], Buffer.from('0900000061626364', 'hex')), shapeErr('b', /BYTES element 0 is truncated/));
});

test('validateRaw requires exactly count x size bytes for every fixed-size type', () => {
  for (const datatype of DATATYPES) {
    const size = elementBytes(datatype);
    if (size === undefined) continue;
    validateRaw('f', datatype, [2, 3], Buffer.alloc(6 * size));
    validateRaw('f', datatype, [2, 0], Buffer.alloc(0));
    validateRaw('f', datatype, [], Buffer.alloc(size));
    for (const length of [6 * size - 1, 6 * size + 1, 0]) {
      assert.throws(() => validateRaw('f', datatype, [2, 3], Buffer.alloc(length)),
        shapeErr('f', new RegExp(`${datatype} shape \\[2,3\\] needs ${6 * size} bytes \\(6 x ${size}\\), got ${length} bytes`)), `${datatype} ${length}`);
    }
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SwitchyardError } from '../../../../router/core/errors.js';
import { parseJsonObject } from '../../../../router/listeners/openai/json-body.js';

test('a JSON object is returned as parsed', () => {
  assert.deepEqual(parseJsonObject(Buffer.from('{"model":"m","n":1}')), { model: 'm', n: 1 });
});

const BAD: Array<{ name: string; body: Buffer | undefined; code: string; message: string }> = [
  { name: 'no body', body: undefined, code: 'SWY_ERR_INPUT_MALFORMED_BODY', message: 'request body is empty' },
  { name: 'an empty body', body: Buffer.alloc(0), code: 'SWY_ERR_INPUT_MALFORMED_BODY', message: 'request body is empty' },
  { name: 'malformed JSON', body: Buffer.from('{"model":'), code: 'SWY_ERR_INPUT_MALFORMED_BODY', message: 'request body is not valid JSON: ' },
  { name: 'a JSON array', body: Buffer.from('[{"model":"m"}]'), code: 'SWY_ERR_INPUT_INVALID_FIELD', message: 'request body must be a JSON object, got an array' },
  { name: 'JSON null', body: Buffer.from('null'), code: 'SWY_ERR_INPUT_INVALID_FIELD', message: 'request body must be a JSON object, got null' },
  { name: 'a JSON string', body: Buffer.from('"hi"'), code: 'SWY_ERR_INPUT_INVALID_FIELD', message: 'request body must be a JSON object, got a string' },
];

for (const c of BAD) {
  test(`rejects ${c.name} with a 400`, () => {
    assert.throws(() => parseJsonObject(c.body), (err: unknown) => {
      assert.ok(err instanceof SwitchyardError);
      assert.equal(err.code, c.code);
      assert.equal(err.httpStatus, 400);
      assert.equal(err.param, undefined);
      assert.ok(err.message.startsWith(c.message), err.message);
      return true;
    });
  });
}

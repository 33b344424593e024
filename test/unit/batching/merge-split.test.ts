// Tensor merge and split, without a batcher: concatenating members' raw inputs on dimension 0 and
// cutting a batch answer back must be bit-identical for every V2 datatype (BYTES with embedded NULs
// and empty elements, FP16 NaN payloads and subnormals), typed contents included.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rawToContents } from '../../../router/adapters/kserve-tensor/index.js';
import { prepareBatchable, type BatchableRequest } from '../../../router/batching/batchable-request.js';
import { cutRequest } from '../../../router/batching/cut-request.js';
import { mergeRequests } from '../../../router/batching/merge-requests.js';
import { joinResponses, splitResponse } from '../../../router/batching/split-response.js';
import { sliceRows } from '../../../router/batching/tensor-rows.js';
import type { ModelInferResponse__Output } from '../../../router/generated/inference/ModelInferResponse.js';
import { EchoUpstream } from './echo-upstream.js';
import { DATATYPES, mixedRequest, PER_ROW, rawRows, rowsRequest } from './tensor-fixtures.js';

function prepared(request: Parameters<typeof prepareBatchable>[0]): BatchableRequest {
  const item = prepareBatchable(request);
  assert.ok(item !== undefined, 'batchable');
  return item;
}

const ROWS = [1, 2, 3];

describe('merge and split', () => {
  for (const datatype of DATATYPES) {
    test(`${datatype}: merged input is the members' bytes in order; each share of the answer is the member's own bytes`, () => {
      const members = ROWS.map((rows, i) => prepared(rowsRequest(datatype, rows, i + 1)));
      const merged = mergeRequests(members, 'batch-1');
      assert.equal(merged.id, 'batch-1');
      assert.deepEqual(merged.inputs?.[0]?.shape, [6, PER_ROW]);
      const expected = Buffer.concat(ROWS.map((rows, i) => rawRows(datatype, rows, i + 1)));
      assert.ok(Buffer.from(merged.raw_input_contents?.[0] as Uint8Array).equals(expected), 'concatenated raw');

      const answer = new EchoUpstream().answer(merged);
      const shares = splitResponse(answer, members.map((m) => ({ rows: m.rows, id: String(m.request.id) })));
      shares.forEach((share, i) => {
        assert.equal(share.id, `req-${i + 1}`);
        assert.deepEqual(share.outputs[0]?.shape, [String(ROWS[i]), String(PER_ROW)]);
        assert.equal(share.outputs[0]?.datatype, datatype);
        assert.ok(share.raw_output_contents[0]?.equals(rawRows(datatype, ROWS[i] as number, i + 1)), `share ${i} bit-identical`);
      });
    });
  }

  test('several inputs of different datatypes merge and split together', () => {
    const members = [prepared(mixedRequest(2, 1)), prepared(mixedRequest(1, 2)), prepared(mixedRequest(4, 3))];
    const merged = mergeRequests(members, 'b');
    assert.deepEqual(merged.inputs?.map((i) => i.shape), [[7, 3], [7, 3], [7, 3]]);
    const shares = splitResponse(new EchoUpstream().answer(merged), members.map((m) => ({ rows: m.rows, id: String(m.request.id) })));
    shares.forEach((share, i) => {
      const own = members[i]?.request.raw_input_contents as Buffer[];
      assert.equal(share.raw_output_contents.length, 3);
      share.raw_output_contents.forEach((raw, k) => assert.ok(raw.equals(own[k] as Buffer), `member ${i} output ${k}`));
    });
  });

  test('typed contents are normalised to raw by the codec, and merge with raw requests', () => {
    const raw = rowsRequest('INT32', 2, 5);
    const typed = rowsRequest('INT32', 1, 6);
    const typedBytes = typed.raw_input_contents?.[0] as Buffer;
    const contents = rawToContents('x', 'INT32', [1, PER_ROW], typedBytes);
    const typedRequest = { ...typed, raw_input_contents: [], inputs: [{ name: 'x', datatype: 'INT32', shape: [1, PER_ROW], contents }] };
    const a = prepared(raw);
    const b = prepared(typedRequest);
    assert.equal(a.key, b.key);
    const merged = mergeRequests([a, b], 'b');
    assert.ok(Buffer.from(merged.raw_input_contents?.[0] as Uint8Array).equals(Buffer.concat([raw.raw_input_contents?.[0] as Buffer, typedBytes])));
    assert.equal(merged.inputs?.[0]?.contents, undefined);
  });

  test('an answer in typed contents is split like raw; an output without the batch dim goes whole to everyone', () => {
    const members = [prepared(rowsRequest('FP32', 1, 1)), prepared(rowsRequest('FP32', 2, 2))];
    const merged = mergeRequests(members, 'b');
    const typed = new EchoUpstream();
    typed.typedAnswer = true;
    const shares = splitResponse(typed.answer(merged), [{ rows: 1, id: 'a' }, { rows: 2, id: 'b' }]);
    assert.ok(shares[1]?.raw_output_contents[0]?.equals(rawRows('FP32', 2, 2)));
    assert.equal(shares[1]?.outputs[0]?.contents, null);

    const withMeta = new EchoUpstream();
    withMeta.unbatchedOutput = true;
    const split = splitResponse(withMeta.answer(merged), [{ rows: 1, id: 'a' }, { rows: 2, id: 'b' }]);
    for (const share of split) {
      assert.deepEqual(share.outputs[1]?.shape, ['2']);
      assert.deepEqual([...new Int32Array(new Uint8Array(share.raw_output_contents[1] as Buffer).slice().buffer)], [7, 9]);
      assert.deepEqual(share.parameters, { batch_parameter: { bool_param: true, parameter_choice: 'bool_param' } });
      assert.deepEqual(share.outputs[0]?.parameters, { echoed: { string_param: 'x', parameter_choice: 'string_param' } });
    }
  });

  test('an answer whose framing is broken fails as the upstream\'s fault', () => {
    const members = [prepared(rowsRequest('BYTES', 1, 1)), prepared(rowsRequest('BYTES', 1, 2))];
    const answer: ModelInferResponse__Output = new EchoUpstream().answer(mergeRequests(members, 'b'));
    answer.raw_output_contents[0] = (answer.raw_output_contents[0] as Buffer).subarray(1);
    assert.throws(() => splitResponse(answer, [{ rows: 1, id: 'a' }, { rows: 1, id: 'b' }]), { code: 'SWY_ERR_UPSTREAM_BAD_RESPONSE' });
  });

  for (const datatype of ['BYTES', 'FP16', 'UINT64'] as const) {
    test(`${datatype}: an oversize request cut into pieces and joined back is bit-identical`, () => {
      const whole = prepared(rowsRequest(datatype, 7, 9));
      const pieces = cutRequest(whole, 3);
      assert.deepEqual(pieces.map((p) => p.rows), [3, 3, 1]);
      assert.ok(pieces.every((p) => p.key === whole.key));
      const echo = new EchoUpstream();
      const joined = joinResponses(pieces.map((p) => echo.answer(p.request)), pieces.map((p) => p.rows), 'orig');
      assert.equal(joined.id, 'orig');
      assert.deepEqual(joined.outputs[0]?.shape, ['7', String(PER_ROW)]);
      assert.ok(joined.raw_output_contents[0]?.equals(rawRows(datatype, 7, 9)));
    });
  }

  test('BYTES rows are cut at element boundaries, keeping the length prefixes', () => {
    const raw = rawRows('BYTES', 4, 3);
    const pieces = sliceRows({ name: 'x', datatype: 'BYTES', shape: [4, PER_ROW], raw }, [1, 0, 3]);
    assert.equal(pieces[1]?.length, 0);
    assert.ok(Buffer.concat(pieces).equals(raw));
    assert.ok(pieces[0]?.equals(rawRows('BYTES', 1, 3)), 'the first row of the same seed');
    assert.throws(() => sliceRows({ name: 'x', datatype: 'BYTES', shape: [4, PER_ROW], raw }, [1, 1]), { code: 'SWY_ERR_INTERNAL' });
  });
});

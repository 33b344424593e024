// A client's ModelInferRequest (as a gRPC handler receives it) validated and normalised to raw
// contents: typed contents become raw bytes, raw passes through untouched, mixing is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonToRaw, joinBytesElements } from '../../../../router/adapters/kserve-tensor/index.js';
import { inferenceProto } from '../../../../router/core/grpc-definitions.js';
import type { ModelInferRequest } from '../../../../router/generated/inference/ModelInferRequest.js';
import { rawInferRequest } from '../../../../router/listeners/kserve-grpc/raw-infer-request.js';

const modelInfer = inferenceProto().inference.GRPCInferenceService.service.ModelInfer;
const LIMITS = { maxTensorElements: 100 };

/** Through the wire and back: defaults filled, int64 as strings, null contents — what a handler sees. */
function received(message: ModelInferRequest) {
  return modelInfer.requestDeserialize(modelInfer.requestSerialize(message));
}

const ROW = [5.1, 3.5, 1.4, 0.2];

test('typed contents become raw_input_contents; nothing typed is left for the batcher or backends', () => {
  const out = rawInferRequest(
    received({
      model_name: 'iris',
      model_version: '1',
      id: 'r1',
      parameters: { priority: { int64_param: 1 } },
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: ROW }, parameters: { p: { string_param: 'x' } } },
        { name: 'text', datatype: 'BYTES', shape: [2], contents: { bytes_contents: [Buffer.from('a'), Buffer.from('bc')] } },
      ],
      outputs: [{ name: 'label' }],
    }),
    LIMITS,
  );
  assert.equal(out.model_name, 'iris');
  assert.equal(out.model_version, '1');
  assert.equal(out.id, 'r1');
  assert.deepEqual(out.raw_input_contents, [jsonToRaw('input', 'FP32', [1, 4], ROW), joinBytesElements([Buffer.from('a'), Buffer.from('bc')])]);
  assert.deepEqual(out.inputs?.map((i) => [i.name, i.datatype, i.shape, 'contents' in i]), [
    ['input', 'FP32', ['1', '4'], false],
    ['text', 'BYTES', ['2'], false],
  ]);
  assert.equal(out.inputs?.[0]?.parameters?.['p']?.string_param, 'x');
  assert.equal(out.parameters?.['priority']?.int64_param, '1');
  assert.deepEqual(out.outputs?.map((o) => o.name), ['label']);

  // The normalised request encodes as a valid ModelInferRequest (what goes upstream).
  const again = received(out);
  assert.deepEqual(again.raw_input_contents, out.raw_input_contents);
  assert.equal(again.inputs[0]?.contents, null);
});

test('raw contents pass through as they came', () => {
  const raw = jsonToRaw('input', 'FP32', [1, 4], ROW);
  const req = received({ model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [raw] });
  const out = rawInferRequest(req, LIMITS);
  assert.equal(out.raw_input_contents?.[0], req.raw_input_contents[0]);
  assert.deepEqual(out.raw_input_contents, [raw]);
});

test('invalid requests are refused with the codec codes, naming the tensor', () => {
  const raw = jsonToRaw('input', 'FP32', [1, 4], ROW);
  const mixed = received({
    model_name: 'iris',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: ROW } }],
    raw_input_contents: [raw],
  });
  assert.throws(() => rawInferRequest(mixed, LIMITS), { code: 'SWY_ERR_INPUT_INVALID_FIELD', message: /input 'input': raw_input_contents must be used for all inputs or none/ });

  const short = received({ model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3] } }] });
  assert.throws(() => rawInferRequest(short, LIMITS), { code: 'SWY_ERR_INPUT_TENSOR_SHAPE', message: /input 'input': shape \[1,4\] needs 4 elements/ });

  const badRaw = received({ model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [Buffer.alloc(12)] });
  assert.throws(() => rawInferRequest(badRaw, LIMITS), { code: 'SWY_ERR_INPUT_TENSOR_SHAPE' });

  const fp16 = received({ model_name: 'm', inputs: [{ name: 'h', datatype: 'FP16', shape: [1], contents: { fp32_contents: [1] } }] });
  assert.throws(() => rawInferRequest(fp16, LIMITS), { code: 'SWY_ERR_INPUT_TENSOR_DATATYPE', message: /FP16 must be sent as raw contents/ });

  const unknownType = received({ model_name: 'm', inputs: [{ name: 'x', datatype: 'FP8', shape: [1], contents: { fp32_contents: [1] } }] });
  assert.throws(() => rawInferRequest(unknownType, LIMITS), { code: 'SWY_ERR_INPUT_TENSOR_DATATYPE' });

  const noData = received({ model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }] });
  assert.throws(() => rawInferRequest(noData, LIMITS), { code: 'SWY_ERR_INPUT_INVALID_FIELD', message: /has no data/ });
});

test('limits.maxTensorElements is checked before any conversion; shared memory is refused', () => {
  const big = received({ model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [26, 4], contents: { fp32_contents: [] } }] });
  assert.throws(() => rawInferRequest(big, LIMITS), { code: 'SWY_ERR_INPUT_TENSOR_TOO_LARGE', message: /limit of 100 elements \(limits\.maxTensorElements\)/ });

  const shmIn = received({ model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], parameters: { shared_memory_region: { string_param: 'r' } } }] });
  assert.throws(() => rawInferRequest(shmIn, LIMITS), { code: 'SWY_ERR_INPUT_UNSUPPORTED' });
  const shmOut = received({
    model_name: 'iris',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: ROW } }],
    outputs: [{ name: 'label', parameters: { shared_memory_region: { string_param: 'r' } } }],
  });
  assert.throws(() => rawInferRequest(shmOut, LIMITS), { code: 'SWY_ERR_INPUT_UNSUPPORTED', message: /output 'label'/ });
});

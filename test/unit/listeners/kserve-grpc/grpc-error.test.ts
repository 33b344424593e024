// The one gRPC error mapper: every catalogue code → its documented gRPC code, the message as
// details (never an internal error's), retry-after as trailing metadata; and docs/ERRORS.md names it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { CANONICAL_CODES, ERROR_CATALOGUE, SwitchyardError, type ErrorCode } from '../../../../router/core/errors.js';
import { grpcError } from '../../../../router/listeners/kserve-grpc/grpc-error.js';

const DOC = readFileSync(new URL('../../../../docs/ERRORS.md', import.meta.url), 'utf8');

test('every catalogue code maps to its canonical gRPC code, its message and retry-after', () => {
  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
    const err = new SwitchyardError(code, `message for ${code}`, { retryAfterS: 2 });
    const mapped = grpcError(err);
    assert.equal(mapped.code, CANONICAL_CODES[ERROR_CATALOGUE[code].canonical], code);
    assert.equal(mapped.code, err.grpcCode, code);
    assert.deepEqual(mapped.metadata.get('retry-after'), ['2'], code);
    if (code !== 'SWY_ERR_INTERNAL') assert.equal(mapped.details, `message for ${code}`);
  }
});

test('the codes a Triton client tells apart', () => {
  const code = (c: ErrorCode) => grpcError(new SwitchyardError(c, 'x')).code;
  assert.equal(code('SWY_ERR_ROUTE_MODEL_NOT_FOUND'), status.NOT_FOUND);
  assert.equal(code('SWY_ERR_INPUT_TENSOR_SHAPE'), status.INVALID_ARGUMENT);
  assert.equal(code('SWY_ERR_INPUT_TENSOR_TOO_LARGE'), status.RESOURCE_EXHAUSTED);
  assert.equal(code('SWY_ERR_INPUT_UNSUPPORTED'), status.UNIMPLEMENTED);
  assert.equal(code('SWY_ERR_ADMIT_OVERLOADED'), status.UNAVAILABLE);
  assert.equal(code('SWY_ERR_UPSTREAM_UNAVAILABLE'), status.UNAVAILABLE);
  assert.equal(code('SWY_ERR_UPSTREAM_DEADLINE'), status.DEADLINE_EXCEEDED);
  assert.equal(code('SWY_ERR_REQUEST_CANCELLED'), status.CANCELLED);
});

test('an upstream rejection keeps the upstream status; an internal error keeps its detail to itself', () => {
  const rejected = grpcError(new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', "ModelInfer RPC doesn't support models with decoupled transaction policy", { canonical: 'UNIMPLEMENTED' }));
  assert.equal(rejected.code, status.UNIMPLEMENTED);
  assert.match(rejected.details, /decoupled/);
  const internal = grpcError(new SwitchyardError('SWY_ERR_INTERNAL', 'secret detail'));
  assert.equal(internal.code, status.INTERNAL);
  assert.equal(internal.details, 'internal error');
  assert.deepEqual(internal.metadata.get('retry-after'), []);
});

test('docs/ERRORS.md lists the gRPC mapper in its mapper table', () => {
  assert.match(DOC, /^\| KServe V2 gRPC .*\| `router\/listeners\/kserve-grpc\/grpc-error\.ts` \|/m);
});

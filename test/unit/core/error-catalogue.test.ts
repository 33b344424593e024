import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CANONICAL_CODES, canonicalFromGrpc, ERROR_CATALOGUE, SwitchyardError, type ErrorCode } from '../../../router/core/errors.js';
import { v2Error } from '../../../router/listeners/kserve/v2-error.js';

const DOC = readFileSync(new URL('../../../docs/ERRORS.md', import.meta.url), 'utf8');
const ROWS = new Map(
  [...DOC.matchAll(/^\| `(SWY_ERR_[A-Z0-9_]+)` \| ([A-Z_]+) \| (\d+) \| (\d+) \| (.+) \|$/gm)].map((m) => [
    m[1] as string,
    { canonical: m[2], grpc: Number(m[3]), http: Number(m[4]), summary: m[5] },
  ]),
);

test('docs/ERRORS.md lists exactly the catalogue', () => {
  assert.deepEqual([...ROWS.keys()].sort(), Object.keys(ERROR_CATALOGUE).sort());
});

test('every catalogue code has the documented canonical code, gRPC code, HTTP status and summary', () => {
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
    const row = ROWS.get(code);
    const err = new SwitchyardError(code as ErrorCode, 'x');
    assert.equal(row?.canonical, entry.canonical, code);
    assert.equal(row?.grpc, err.grpcCode, code);
    assert.equal(row?.http, err.httpStatus, code);
    assert.equal(row?.summary, entry.summary, code);
  }
});

test('codes are SWY_ERR_<AREA>_<WHAT> with a known area', () => {
  for (const code of Object.keys(ERROR_CATALOGUE)) {
    assert.match(code, /^SWY_ERR_(CFG|INPUT|ADMIT|ROUTE|CLUSTER|UPSTREAM|BATCH|REQUEST|INTERNAL)(_[A-Z0-9]+)*$/);
  }
});

test('the V2 mapper uses the catalogue status, a plain-string error body and Retry-After', () => {
  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
    const err = new SwitchyardError(code, `message for ${code}`, { retryAfterS: 2 });
    const mapped = v2Error(err);
    assert.equal(mapped.status, err.httpStatus);
    assert.equal(typeof mapped.body.error, 'string');
    assert.equal(mapped.headers['retry-after'], '2');
    if (code !== 'SWY_ERR_INTERNAL') assert.equal(mapped.body.error, `message for ${code}`);
  }
  assert.equal(v2Error(new SwitchyardError('SWY_ERR_INTERNAL', 'secret detail')).body.error, 'internal error');
});

test('an upstream rejection keeps the upstream status', () => {
  const err = new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', 'unexpected shape', { canonical: canonicalFromGrpc(3) });
  assert.equal(err.canonical, 'INVALID_ARGUMENT');
  assert.equal(err.httpStatus, 400);
  assert.equal(err.grpcCode, 3);
  assert.equal(new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', 'x', { canonical: 'UNIMPLEMENTED' }).httpStatus, 501);
  assert.equal(canonicalFromGrpc(99), 'UNKNOWN');
  assert.equal(Object.keys(CANONICAL_CODES).length, 17);
});

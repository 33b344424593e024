import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CANONICAL_CODES, ERROR_CATALOGUE, SwitchyardError, type CanonicalCode, type ErrorCode } from '../../../router/core/errors.js';
import { blamesEndpoint, isRetryable } from '../../../router/resilience/retryable.js';

interface Verdict {
  retryable: boolean;
  /** Retryable when the attempt's per-try timer fired. */
  retryableAfterPerTry: boolean;
  blames: boolean;
  blamesAfterPerTry: boolean;
}
const NEITHER: Verdict = { retryable: false, retryableAfterPerTry: false, blames: false, blamesAfterPerTry: false };

/** Every catalogue code (SWY_ERR_UPSTREAM_REJECTED with its default canonical, UNKNOWN). A new code must be decided here. */
const BY_CODE: Record<ErrorCode, Verdict> = {
  SWY_ERR_CFG_INVALID: NEITHER,
  SWY_ERR_INPUT_MALFORMED_BODY: NEITHER,
  SWY_ERR_INPUT_INVALID_FIELD: NEITHER,
  SWY_ERR_INPUT_TENSOR_DATATYPE: NEITHER,
  SWY_ERR_INPUT_TENSOR_SHAPE: NEITHER,
  SWY_ERR_INPUT_BODY_TOO_LARGE: NEITHER,
  SWY_ERR_INPUT_TENSOR_TOO_LARGE: NEITHER,
  SWY_ERR_INPUT_UNSUPPORTED: NEITHER,
  SWY_ERR_ADMIT_OVERLOADED: NEITHER,
  SWY_ERR_ADMIT_STATE_UNAVAILABLE: NEITHER, // raised at admission, before any endpoint is tried
  SWY_ERR_ADMIT_UNAUTHENTICATED: NEITHER, // the client's key, the same on every endpoint
  SWY_ERR_ADMIT_MODEL_FORBIDDEN: NEITHER,
  SWY_ERR_ADMIT_RATE_LIMITED: NEITHER, // the tenant's limit, raised before routing
  SWY_ERR_ROUTE_NOT_FOUND: NEITHER,
  SWY_ERR_ROUTE_MODEL_NOT_FOUND: NEITHER,
  SWY_ERR_ROUTE_MODEL_NOT_READY: NEITHER,
  SWY_ERR_CLUSTER_NO_ENDPOINT: NEITHER, // nothing else to try
  SWY_ERR_CLUSTER_OVERLOADED: NEITHER, // the whole cluster is full, not one endpoint
  SWY_ERR_BATCH_QUEUE_FULL: NEITHER, // raised by the router's batcher before any endpoint is tried
  SWY_ERR_UPSTREAM_UNAVAILABLE: { retryable: true, retryableAfterPerTry: true, blames: true, blamesAfterPerTry: true },
  // The request's own deadline: no time left, and no evidence against the endpoint — unless the per-try timer fired.
  SWY_ERR_UPSTREAM_DEADLINE: { retryable: false, retryableAfterPerTry: true, blames: false, blamesAfterPerTry: true },
  SWY_ERR_UPSTREAM_REJECTED: { retryable: false, retryableAfterPerTry: false, blames: true, blamesAfterPerTry: true },
  SWY_ERR_UPSTREAM_BAD_RESPONSE: { retryable: false, retryableAfterPerTry: false, blames: true, blamesAfterPerTry: true },
  SWY_ERR_REQUEST_CANCELLED: NEITHER,
  SWY_ERR_INTERNAL: NEITHER, // a router bug must not eject replicas
};

/** SWY_ERR_UPSTREAM_REJECTED by the upstream's own status. */
const BY_UPSTREAM_STATUS: Record<CanonicalCode, { retryable: boolean; blames: boolean }> = {
  OK: { retryable: false, blames: false },
  CANCELLED: { retryable: false, blames: false },
  UNKNOWN: { retryable: false, blames: true },
  INVALID_ARGUMENT: { retryable: false, blames: false },
  DEADLINE_EXCEEDED: { retryable: false, blames: false },
  NOT_FOUND: { retryable: false, blames: false },
  ALREADY_EXISTS: { retryable: false, blames: false },
  PERMISSION_DENIED: { retryable: false, blames: false },
  RESOURCE_EXHAUSTED: { retryable: true, blames: false }, // queue full: try a less busy replica, do not eject a busy one
  FAILED_PRECONDITION: { retryable: false, blames: false },
  ABORTED: { retryable: false, blames: false },
  OUT_OF_RANGE: { retryable: false, blames: false },
  UNIMPLEMENTED: { retryable: false, blames: false },
  INTERNAL: { retryable: false, blames: true }, // the model failed on this input: same everywhere, but a broken replica fails everything
  UNAVAILABLE: { retryable: true, blames: true }, // shutting down / not ready
  DATA_LOSS: { retryable: false, blames: true },
  UNAUTHENTICATED: { retryable: false, blames: false },
};

test('the tables cover the whole catalogue and every canonical code', () => {
  assert.deepEqual(Object.keys(BY_CODE).sort(), Object.keys(ERROR_CATALOGUE).sort());
  assert.deepEqual(Object.keys(BY_UPSTREAM_STATUS).sort(), Object.keys(CANONICAL_CODES).sort());
});

test('every catalogue code: retryable and blamed, with and without a per-try timeout', () => {
  for (const [code, verdict] of Object.entries(BY_CODE) as Array<[ErrorCode, Verdict]>) {
    const err = new SwitchyardError(code, 'x');
    assert.equal(isRetryable(err), verdict.retryable, `${code} isRetryable (no outcome)`);
    assert.equal(isRetryable(err, { perTryTimedOut: false }), verdict.retryable, `${code} isRetryable`);
    assert.equal(isRetryable(err, { perTryTimedOut: true }), verdict.retryableAfterPerTry, `${code} isRetryable after per-try timeout`);
    assert.equal(blamesEndpoint(err), verdict.blames, `${code} blamesEndpoint (no outcome)`);
    assert.equal(blamesEndpoint(err, { perTryTimedOut: false }), verdict.blames, `${code} blamesEndpoint`);
    assert.equal(blamesEndpoint(err, { perTryTimedOut: true }), verdict.blamesAfterPerTry, `${code} blamesEndpoint after per-try timeout`);
  }
});

test('SWY_ERR_UPSTREAM_REJECTED: decided by the upstream status, whatever the per-try timer did', () => {
  for (const [canonical, verdict] of Object.entries(BY_UPSTREAM_STATUS) as Array<[CanonicalCode, { retryable: boolean; blames: boolean }]>) {
    const err = new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', 'x', { canonical });
    for (const perTryTimedOut of [false, true]) {
      assert.equal(isRetryable(err, { perTryTimedOut }), verdict.retryable, `${canonical} isRetryable (per-try ${perTryTimedOut})`);
      assert.equal(blamesEndpoint(err, { perTryTimedOut }), verdict.blames, `${canonical} blamesEndpoint (per-try ${perTryTimedOut})`);
    }
  }
});

test('anything that is not a SwitchyardError is neither retried nor blamed', () => {
  const others: unknown[] = [new Error('ECONNRESET'), Object.assign(new Error('x'), { code: 'SWY_ERR_UPSTREAM_UNAVAILABLE' }), 'UNAVAILABLE', undefined, null, 14];
  for (const err of others) {
    for (const perTryTimedOut of [false, true]) {
      assert.equal(isRetryable(err, { perTryTimedOut }), false, String(err));
      assert.equal(blamesEndpoint(err, { perTryTimedOut }), false, String(err));
    }
  }
});

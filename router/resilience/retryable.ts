// Which failures may be retried on another endpoint, and which count against the endpoint for
// outlier ejection — two different questions over the same error catalogue. A retry must be likely
// to succeed elsewhere and safe to repeat; blame must point at the replica, not at the request, the
// client or the router, or one bad request could eject healthy replicas.
import { SwitchyardError, type CanonicalCode } from '../core/errors.js';

/** What the caller knows about the attempt beyond the error itself. */
export interface AttemptOutcome {
  /**
   * The attempt's own per-try timer fired (retry.perTryTimeoutMs), as opposed to the request's
   * deadline passing. Both surface as SWY_ERR_UPSTREAM_DEADLINE; only the first leaves time to try
   * another endpoint, and only the first says anything about the endpoint (the request's deadline
   * may simply have been too short for the work asked).
   */
  readonly perTryTimedOut?: boolean;
}

/**
 * Upstream statuses worth another endpoint: UNAVAILABLE (Triton shutting down, a replica not ready)
 * and RESOURCE_EXHAUSTED (Triton's queue full, vLLM's 429) describe that replica's state, not the
 * request. INTERNAL is deliberately absent: Triton reports the model's own failure on this input
 * (a backend exception, a bad output, OOM for this shape) as INTERNAL, and every replica runs the
 * same model, so a retry would most likely fail the same way while multiplying a poison request's
 * cost across the fleet. UNKNOWN and DATA_LOSS are left out for the same reason.
 */
const RETRYABLE_UPSTREAM_STATUS: ReadonlySet<CanonicalCode> = new Set(['UNAVAILABLE', 'RESOURCE_EXHAUSTED']);

/**
 * Upstream statuses that blame the replica (Envoy's "5xx" class): the replica is unreachable or going
 * away, or it broke. A single poison request is harmless here — ejection needs consecutive failures,
 * and any success in between resets the count — while a replica with a broken GPU fails everything.
 * RESOURCE_EXHAUSTED does not blame: ejecting busy replicas piles their load onto the rest and
 * cascades; shedding is the answer to overload, not ejection. Client-class statuses (INVALID_ARGUMENT,
 * NOT_FOUND, UNIMPLEMENTED, …) are judgements of the request and never blame.
 */
const BLAMED_UPSTREAM_STATUS: ReadonlySet<CanonicalCode> = new Set(['UNAVAILABLE', 'INTERNAL', 'UNKNOWN', 'DATA_LOSS']);

/**
 * May the failed attempt be retried on another endpoint? Only failures where the request never did
 * its work on a healthy replica: transport failures (connect refused/reset, GOAWAY), a per-try
 * timeout, and an upstream saying it is unavailable or full. Never: the client's cancel or invalid
 * input, the request's own deadline, the router's own errors, SWY_ERR_CLUSTER_NO_ENDPOINT (there is
 * nothing else to try), or any other upstream judgement. Non-catalogue throwables are router bugs:
 * not retried.
 */
export function isRetryable(err: unknown, outcome: AttemptOutcome = {}): boolean {
  if (!(err instanceof SwitchyardError)) return false;
  switch (err.code) {
    case 'SWY_ERR_UPSTREAM_UNAVAILABLE':
      return true;
    case 'SWY_ERR_UPSTREAM_DEADLINE':
      return outcome.perTryTimedOut === true;
    case 'SWY_ERR_UPSTREAM_REJECTED':
      return RETRYABLE_UPSTREAM_STATUS.has(err.canonical);
    default:
      return false;
  }
}

/**
 * Does the failure count toward the endpoint's outlier ejection? Transport failures, per-try
 * timeouts, 5xx-class upstream statuses and responses the router cannot decode; not client errors,
 * cancellations, the request's own deadline, or anything the router raised itself.
 */
export function blamesEndpoint(err: unknown, outcome: AttemptOutcome = {}): boolean {
  if (!(err instanceof SwitchyardError)) return false;
  switch (err.code) {
    case 'SWY_ERR_UPSTREAM_UNAVAILABLE':
    case 'SWY_ERR_UPSTREAM_BAD_RESPONSE':
      return true;
    case 'SWY_ERR_UPSTREAM_DEADLINE':
      return outcome.perTryTimedOut === true;
    case 'SWY_ERR_UPSTREAM_REJECTED':
      return BLAMED_UPSTREAM_STATUS.has(err.canonical);
    default:
      return false;
  }
}

// Maps a grpc-js failure of an upstream call onto the error catalogue, keeping the upstream's status.
import { status, type ServiceError } from '@grpc/grpc-js';
import { canonicalFromGrpc, SwitchyardError } from '../../core/errors.js';
import type { Endpoint } from '../../core/endpoint.js';

export function upstreamError(err: ServiceError, endpoint: Endpoint, aborted: boolean): SwitchyardError {
  const where = `${endpoint.cluster}/${endpoint.address}`;
  switch (err.code) {
    case status.UNAVAILABLE:
      return new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', `upstream ${where} unavailable: ${err.details}`, { cause: err });
    case status.DEADLINE_EXCEEDED:
      return new SwitchyardError('SWY_ERR_UPSTREAM_DEADLINE', `upstream ${where} did not answer before the deadline`, { cause: err });
    case status.CANCELLED:
      if (aborted) return new SwitchyardError('SWY_ERR_REQUEST_CANCELLED', 'request cancelled by the client', { cause: err });
      break;
    default:
      break;
  }
  // The upstream judged the request (Triton's INVALID_ARGUMENT, NOT_FOUND, UNIMPLEMENTED…): its
  // status and message are the most useful thing to hand back unchanged.
  return new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', err.details || `upstream ${where} failed`, {
    cause: err,
    canonical: canonicalFromGrpc(err.code),
  });
}

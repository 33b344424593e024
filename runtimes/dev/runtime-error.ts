// The dev runtime's one error type: a gRPC status code, a Triton-style message, the phase that
// raised it and how ModelStatistics/metrics count it. Phase matters on ModelStreamInfer: Triton
// answers "request" errors (lookup, validation) before the request is issued, with only `id` set
// in the in-band response, and "backend" errors (model failures) through the response callback,
// with id, model_name, model_version and triton_final_response=true.
import { status } from '@grpc/grpc-js';
import { SwitchyardError } from '../../router/core/errors.js';
import type { FailureReason } from './model-statistics.js';

export type ErrorPhase = 'request' | 'backend';

export class RuntimeError extends Error {
  override name = 'RuntimeError';
  readonly code: status;
  readonly phase: ErrorPhase;
  readonly reason: FailureReason;

  constructor(code: status, message: string, phase: ErrorPhase, reason: FailureReason = 'OTHER') {
    super(message);
    this.code = code;
    this.phase = phase;
    this.reason = reason;
  }
}

/** Triton prefixes request-validation errors with the request id. */
export function requestPrefix(id: string): string {
  return `[request id: ${id === '' ? '<id_unknown>' : id}] `;
}

export function invalidArgument(message: string): RuntimeError {
  return new RuntimeError(status.INVALID_ARGUMENT, message, 'request');
}

export function notFound(message: string): RuntimeError {
  return new RuntimeError(status.NOT_FOUND, message, 'request');
}

export function cancelledError(): RuntimeError {
  return new RuntimeError(status.CANCELLED, 'Request was cancelled', 'backend', 'CANCELED');
}

/** Anything thrown inside the runtime as a RuntimeError; codec errors keep their own gRPC code. */
export function asRuntimeError(err: unknown, phase: ErrorPhase = 'request'): RuntimeError {
  if (err instanceof RuntimeError) return err;
  if (err instanceof SwitchyardError) return new RuntimeError(err.grpcCode as status, err.message, phase);
  const message = err instanceof Error ? err.message : String(err);
  return new RuntimeError(status.INTERNAL, `internal error: ${message}`, phase);
}

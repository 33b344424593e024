// The KServe V2 gRPC error mapper: one SwitchyardError → gRPC status (code, details) and trailing
// metadata (`retry-after` when the router knows when to retry, and the error's extra headers such as
// `x-ratelimit-*`). The only gRPC mapper.
import { Metadata } from '@grpc/grpc-js';
import type { SwitchyardError } from '../../core/errors.js';

export interface GrpcErrorReply {
  readonly code: number;
  readonly details: string;
  readonly metadata: Metadata;
}

export function grpcError(err: SwitchyardError): GrpcErrorReply {
  const metadata = new Metadata();
  // Extra values the error carries (x-ratelimit-*, www-authenticate), as HTTP has them in headers.
  for (const [key, value] of Object.entries(err.headers ?? {})) metadata.set(key, value);
  if (err.retryAfterS !== undefined) metadata.set('retry-after', String(err.retryAfterS));
  // Internal errors carry no detail worth leaking; everything else says what went wrong.
  const details = err.code === 'SWY_ERR_INTERNAL' ? 'internal error' : err.message;
  return { code: err.grpcCode, details, metadata };
}

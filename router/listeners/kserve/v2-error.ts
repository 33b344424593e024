// The KServe V2 error mapper: one SwitchyardError → HTTP status + `{"error": "<message>"}`.
import type { SwitchyardError } from '../../core/errors.js';

export interface V2ErrorReply {
  readonly status: number;
  readonly body: { error: string };
  readonly headers: Record<string, string>;
}

export function v2Error(err: SwitchyardError): V2ErrorReply {
  // Extra headers the error carries (www-authenticate, x-ratelimit-*), then Retry-After.
  const headers: Record<string, string> = { ...err.headers };
  if (err.retryAfterS !== undefined) headers['retry-after'] = String(err.retryAfterS);
  // Internal errors carry no detail worth leaking; everything else says what went wrong.
  const message = err.code === 'SWY_ERR_INTERNAL' ? 'internal error' : err.message;
  return { status: err.httpStatus, body: { error: message }, headers };
}

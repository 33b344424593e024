// The OpenAI error mapper: one SwitchyardError → HTTP status, headers and OpenAI's error envelope
// `{"error": {message, type, param, code}}`, with `code` the catalogue code (SWY_ERR_*).
import type { SwitchyardError } from '../../core/errors.js';

export interface OpenAiErrorObject {
  readonly message: string;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
}

export interface OpenAiErrorReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: { readonly error: OpenAiErrorObject };
}

/** OpenAI's `type` for each status its SDKs raise a distinct error class for. */
const TYPE_BY_STATUS: ReadonlyMap<number, string> = new Map([
  [400, 'invalid_request_error'],
  [401, 'authentication_error'],
  [403, 'permission_error'],
  [404, 'not_found_error'],
  [409, 'conflict_error'],
  [413, 'invalid_request_error'],
  [422, 'invalid_request_error'],
  [429, 'rate_limit_error'],
  // UNIMPLEMENTED: the request asked for something not offered, which is the client's to change.
  [501, 'invalid_request_error'],
]);

export function openAiErrorType(status: number): string {
  // Other 4xx (499: the client went away, so it rarely reads this) are still the request's fault.
  return TYPE_BY_STATUS.get(status) ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
}

export function openAiError(err: SwitchyardError): OpenAiErrorReply {
  // Extra headers the error carries (www-authenticate, x-ratelimit-*), then Retry-After.
  const headers: Record<string, string> = { ...err.headers };
  if (err.retryAfterS !== undefined) headers['retry-after'] = String(err.retryAfterS);
  // Internal errors carry no detail worth leaking; everything else says what went wrong.
  const internal = err.code === 'SWY_ERR_INTERNAL';
  const status = err.httpStatus;
  return {
    status,
    headers,
    body: {
      error: {
        message: internal ? 'internal error' : err.message,
        type: openAiErrorType(status),
        param: internal ? null : (err.param ?? null),
        code: err.code,
      },
    },
  };
}

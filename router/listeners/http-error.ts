// Turns anything thrown while serving an HTTP request into a SwitchyardError: fastify's own errors
// (body limit, bad content length) get their catalogue code; unknown throwables are internal errors.
import { asSwitchyardError, SwitchyardError } from '../core/errors.js';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message: string;
}

export function httpRequestError(err: unknown, maxBodyBytes: number): SwitchyardError {
  if (err instanceof SwitchyardError) return err;
  const e = err as FastifyLikeError;
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SwitchyardError('SWY_ERR_INPUT_BODY_TOO_LARGE', `request body is larger than the limit of ${maxBodyBytes} bytes (limits.maxBodyBytes)`, { cause: err });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new SwitchyardError('SWY_ERR_INPUT_MALFORMED_BODY', e.message, { cause: err });
    default:
      break;
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', e.message, { cause: err });
  }
  return asSwitchyardError(err);
}

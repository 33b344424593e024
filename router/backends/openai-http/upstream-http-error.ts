// Maps an OpenAI-speaking upstream's error answer (vLLM's envelope, FastAPI's {"detail"}, or plain
// text) and transport failures onto the error catalogue, keeping the upstream's status and message.
import { SwitchyardError, type CanonicalCode } from '../../core/errors.js';
import type { Endpoint } from '../../core/endpoint.js';

const CANONICAL_BY_STATUS: Readonly<Record<number, CanonicalCode>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  422: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  501: 'UNIMPLEMENTED',
};

export function upstreamHttpError(status: number, bodyText: string, endpoint: Endpoint): SwitchyardError {
  const where = `${endpoint.cluster}/${endpoint.address}`;
  const { message, param } = readErrorBody(bodyText);
  if (status === 503 || status === 502) {
    return new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', `upstream ${where} unavailable (${status}): ${message ?? 'no detail'}`);
  }
  if (status === 504 || status === 408) {
    return new SwitchyardError('SWY_ERR_UPSTREAM_DEADLINE', `upstream ${where} timed out (${status})`);
  }
  const canonical = CANONICAL_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT');
  return new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', message ?? `upstream ${where} answered ${status}`, {
    canonical,
    ...(param !== undefined ? { param } : {}),
  });
}

/** Transport-level failure of a request to the upstream (refused, reset, aborted, timed out). */
export function upstreamTransportError(err: unknown, endpoint: Endpoint, cancelled: boolean, timedOut: boolean): SwitchyardError {
  const where = `${endpoint.cluster}/${endpoint.address}`;
  if (cancelled) return new SwitchyardError('SWY_ERR_REQUEST_CANCELLED', 'request cancelled by the client', { cause: err });
  if (timedOut) return new SwitchyardError('SWY_ERR_UPSTREAM_DEADLINE', `upstream ${where} did not answer before the deadline`, { cause: err });
  const detail = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
  return new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', `upstream ${where} unavailable: ${detail}`, { cause: err });
}

function readErrorBody(text: string): { message?: string; param?: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    const trimmed = text.trim().slice(0, 500);
    return trimmed === '' ? {} : { message: trimmed };
  }
  if (doc === null || typeof doc !== 'object') return {};
  const { error, detail } = doc as { error?: unknown; detail?: unknown };
  if (error !== null && typeof error === 'object') {
    const { message, param } = error as { message?: unknown; param?: unknown };
    return {
      ...(typeof message === 'string' ? { message } : {}),
      ...(typeof param === 'string' ? { param } : {}),
    };
  }
  if (typeof error === 'string') return { message: error };
  if (typeof detail === 'string') return { message: detail };
  if (detail !== undefined) return { message: JSON.stringify(detail).slice(0, 500) };
  return {};
}

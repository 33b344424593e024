// The request id rule every listener shares: a client-supplied id is kept only if it is short and
// printable (it is echoed and logged); otherwise a fresh UUID.
import { randomUUID } from 'node:crypto';

const REQUEST_ID = /^[\w.:/+=@-]{1,128}$/;

export function requestIdOrNew(given: unknown): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

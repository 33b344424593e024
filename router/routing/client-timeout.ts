// The time one request may take: the route's timeoutMs, or less if the client asks for less with
// `x-switchyard-timeout-ms`. A client can shorten its deadline, never extend it past the route's.
import { headerValue, type RoutingFacts } from '../core/call-context.js';
import { SwitchyardError } from '../core/errors.js';

export const TIMEOUT_HEADER = 'x-switchyard-timeout-ms';

const POSITIVE_INTEGER = /^[1-9][0-9]*$/;

/** Throws SWY_ERR_INPUT_INVALID_FIELD when the header is present but not a positive integer. */
export function requestTimeoutMs(routeTimeoutMs: number, facts: RoutingFacts | undefined): number {
  const value = headerValue(facts, TIMEOUT_HEADER);
  if (value === undefined) return routeTimeoutMs;
  const trimmed = value.trim();
  // Digits only: Number() would accept '1e3', '0x10' and ' ', which no client means as milliseconds.
  if (!POSITIVE_INTEGER.test(trimmed)) {
    throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', `header '${TIMEOUT_HEADER}' must be a positive integer (milliseconds)`, {
      param: TIMEOUT_HEADER,
    });
  }
  // Longer than any route timeout can be (or than a safe integer) simply means "the route's".
  const asked = Number(trimmed);
  return asked < routeTimeoutMs ? asked : routeTimeoutMs;
}

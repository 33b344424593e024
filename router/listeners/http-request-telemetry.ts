// The telemetry of one HTTP inference request: opened by its route's onRequest hook (before the body
// is read, so a body over the limit is counted too), told of the error the listener's error handler
// maps (or of a failure after the status line, in a stream), and ended exactly once when the
// response closes — complete, or abandoned by the client (499).
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { RouteReport } from '../core/call-context.js';
import { httpStatusFor } from '../core/errors.js';
import type { RouterTelemetry, ServedRequestTelemetry } from '../telemetry/create-telemetry.js';
import type { ListenerName } from '../telemetry/request-telemetry.js';

/** The client closed the connection before the response was complete: CANCELLED, nginx's 499. */
const CLIENT_CLOSED = httpStatusFor('CANCELLED');

export interface HttpRequestTelemetry {
  readonly telemetry: ServedRequestTelemetry;
  /** Routing fills it in; the access log reads endpoint and attempts from it. */
  readonly report: RouteReport;
  /** The response went out as 200 and then failed (an SSE error event): it counts as that error. */
  failedAfterHeaders(error: unknown): void;
}

interface Open extends HttpRequestTelemetry {
  error: unknown;
}

const open = new WeakMap<FastifyRequest, Open>();

/**
 * The onRequest hook of an inference route: opens the request's telemetry. `model` reads the model a
 * request names from what is known before the body (the URL), for requests that fail before routing.
 */
export function observeHttp(telemetry: RouterTelemetry, listener: ListenerName, model?: (req: FastifyRequest) => string | undefined): onRequestHookHandler {
  return (req, reply, done) => {
    const scope = openHttpTelemetry(telemetry, listener, req, reply);
    const named = model?.(req);
    if (named !== undefined) scope.telemetry.requested(named);
    done();
  };
}

/** The telemetry observeHttp opened for this request. */
export function observed(req: FastifyRequest): HttpRequestTelemetry {
  const scope = open.get(req);
  if (scope === undefined) throw new Error(`no telemetry opened for ${req.method} ${req.url}: the route needs the observeHttp onRequest hook`);
  return scope;
}

function openHttpTelemetry(telemetry: RouterTelemetry, listener: ListenerName, req: FastifyRequest, reply: FastifyReply): HttpRequestTelemetry {
  const report: RouteReport = {};
  const scope: Open = {
    telemetry: telemetry.request(listener, req.headers, { requestId: req.id, report, operation: `${req.method} ${req.routeOptions.url ?? req.url}` }),
    report,
    error: undefined,
    failedAfterHeaders(error) {
      scope.error = error;
    },
  };
  open.set(req, scope);
  const end = (status: number): void => scope.telemetry.end(scope.error === undefined ? { status } : { status, error: scope.error });
  // 'finish': the last byte went to the socket (a `connection: close` answer's 'close' comes later);
  // 'close' without it: the client left first. The telemetry ends on whichever comes first.
  reply.raw.once('finish', () => end(reply.raw.statusCode));
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) end(CLIENT_CLOSED);
  });
  return scope;
}

/** The error handler's mapped error, for the request's telemetry (requests without telemetry: nothing). */
export function recordHttpError(req: FastifyRequest, error: unknown): void {
  const scope = open.get(req);
  if (scope !== undefined) scope.error = error;
}

/** The trace id of the request, for log lines written outside its handler (the error handler's). */
export function traceIdOf(req: FastifyRequest): string | undefined {
  return open.get(req)?.telemetry.traceId;
}

// The call context of one HTTP request, for every protocol on the client listener: cancellation
// when the client leaves, the facts routing keys on, the report of what routing chose, and the
// request's telemetry (inference requests), and the tenant its API key admitted it as.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallContext, RoutingFacts } from '../core/call-context.js';
import { tenantNameOf } from './http-admission.js';
import type { HttpRequestTelemetry } from './http-request-telemetry.js';

/** Aborted when the client's connection closes before the response is complete. */
export function requestContext(
  req: FastifyRequest,
  reply: FastifyReply,
  deadline = Number.MAX_SAFE_INTEGER,
  facts: Omit<RoutingFacts, 'headers'> = {},
  observed?: HttpRequestTelemetry,
): CallContext {
  const controller = new AbortController();
  // `request.raw` 'close' fires once the body is read; only the response side tells a client that left.
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  const tenant = tenantNameOf(req);
  const ctx = { requestId: req.id, deadline, signal: controller.signal, facts: { headers: req.headers, ...facts }, ...(tenant === undefined ? {} : { tenant }) };
  return observed === undefined ? { ...ctx, report: {} } : { ...ctx, report: observed.report, telemetry: observed.telemetry };
}

/** Tells the client which variant answered (canary analysis, debugging a split). */
export function reportRoute(reply: FastifyReply, ctx: CallContext): void {
  if (ctx.report?.variant !== undefined) reply.header('x-switchyard-variant', ctx.report.variant);
}

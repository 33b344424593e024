// The call context of one HTTP request, for every protocol on the client listener.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallContext } from '../core/call-context.js';

/** Aborted when the client's connection closes before the response is complete. */
export function requestContext(req: FastifyRequest, reply: FastifyReply, deadline = Number.MAX_SAFE_INTEGER): CallContext {
  const controller = new AbortController();
  // `request.raw` 'close' fires once the body is read; only the response side tells a client that left.
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return { requestId: req.id, deadline, signal: controller.signal };
}

// The client HTTP listener (port 8000): one fastify instance serving OpenAI (/v1) and KServe V2 REST
// (/v2). Owns request ids, body limits, API-key authentication of every route (when auth is on) and
// the mapping of every error to its protocol's wire format.
import Fastify, { LogController, type FastifyInstance, type FastifyBaseLogger } from 'fastify';
import { authenticateHttp } from './http-admission.js';
import { httpRequestError } from './http-error.js';
import { recordHttpError, traceIdOf } from './http-request-telemetry.js';
import { requestIdOrNew } from './request-id.js';
import { kserveRestRoutes, type KserveRestOptions } from './kserve/kserve-rest-routes.js';
import { v2Error } from './kserve/v2-error.js';
import { openAiError } from './openai/openai-error.js';
import { openAiRoutes } from './openai/openai-routes.js';
import { SwitchyardError } from '../core/errors.js';

export interface ClientHttpListenerOptions extends KserveRestOptions {
  readonly maxBodyBytes: number;
  readonly logger: FastifyBaseLogger;
}


export function buildClientHttpListener(options: ClientHttpListenerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.maxBodyBytes,
    // Idle keep-alive sockets left by aborted streaming clients would otherwise hold close() for ~70 s;
    // graceful drain happens before close() (see app.ts), so forcing here loses no request.
    forceCloseConnections: true,
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId: (req) => requestIdOrNew(req.headers['x-request-id']),
    // Per-request lines would double the log volume of a router; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
  });

  // Bodies are parsed by the protocol code (it needs raw bytes for the binary tensor extension and
  // wants its own error messages), so every content type arrives as a Buffer.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  // Health, metadata and model lists need a key too; inference routes authenticate in their own hooks.
  if (options.tenantAdmission !== undefined) app.addHook('onRequest', authenticateHttp(options.tenantAdmission));

  // Each protocol answers errors in its own format: OpenAI's envelope under /v1, V2's elsewhere.
  const mapError = (url: string, error: SwitchyardError) => (url.startsWith('/v1/') ? openAiError(error) : v2Error(error));

  app.setErrorHandler((err, req, reply) => {
    const error = httpRequestError(err, options.maxBodyBytes);
    recordHttpError(req, error);
    const traceId = traceIdOf(req);
    if (error.httpStatus >= 500) req.log.error({ err: error, cause: error.cause, code: error.code, traceId }, error.message);
    else req.log.debug({ code: error.code, traceId }, error.message);
    const mapped = mapError(req.url, error);
    return reply.code(mapped.status).headers(mapped.headers).type('application/json').send(mapped.body);
  });

  app.setNotFoundHandler((req, reply) => {
    const mapped = mapError(req.url, new SwitchyardError('SWY_ERR_ROUTE_NOT_FOUND', `no API at ${req.method} ${req.url.split('?')[0]}`));
    return reply.code(mapped.status).type('application/json').send(mapped.body);
  });

  kserveRestRoutes(app, options);
  openAiRoutes(app, options);
  return app;
}

// API-key admission on the client HTTP listener. Every route needs a key when auth is on: a global
// onRequest hook authenticates before the body is read (an unauthenticated client cannot make the
// router read 64 MiB), except on inference routes, which authenticate in their own onRequest hook
// right after their telemetry opened, so a 401 there is counted and logged like any other answer.
// Once a request is admitted, its x-ratelimit-* headers go out with the answer and its usage is
// settled when the response ends.
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { AdmittedRequest } from '../admission/admitted-request.js';
import { ANONYMOUS, type Identity, type TenantAdmission } from '../admission/tenant-admission.js';
import { SwitchyardError } from '../core/errors.js';
import type { ServedRequestTelemetry } from '../telemetry/create-telemetry.js';
import { observed } from './http-request-telemetry.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route authenticates in its own onRequest hook (authenticateObserved), after its telemetry opened. */
    readonly ownAuthentication?: boolean;
  }
}

const identities = new WeakMap<FastifyRequest, Identity>();

function authenticate(admission: TenantAdmission, req: FastifyRequest): Identity {
  const identity = admission.authenticate(req.url.startsWith('/v1/') ? 'openai' : 'kserve-rest', req.headers);
  identities.set(req, identity);
  return identity;
}

/** The listener-wide onRequest hook (routes that authenticate themselves are skipped). */
export function authenticateHttp(admission: TenantAdmission): onRequestHookHandler {
  return async (req) => {
    if (req.routeOptions.config.ownAuthentication === true) return;
    authenticate(admission, req);
  };
}

/** An inference route's onRequest hook, after observeHttp: authenticates and tells the request's telemetry its tenant. */
export function authenticateObserved(admission: TenantAdmission): onRequestHookHandler {
  return async (req) => {
    const identity = authenticate(admission, req);
    if (identity.tenant !== undefined) observed(req).telemetry.tenant(identity.tenant.name);
  };
}

/** Who the request is. A request that was never authenticated while auth is on is a wiring bug, never "anonymous". */
export function identityOf(req: FastifyRequest, admission: TenantAdmission | undefined): Identity {
  const identity = identities.get(req);
  if (identity !== undefined) return identity;
  if (admission?.enabled === true) throw new SwitchyardError('SWY_ERR_INTERNAL', `${req.method} ${req.url} reached its handler unauthenticated`);
  return ANONYMOUS;
}

/** The tenant's name for the call context, if the request has one. */
export function tenantNameOf(req: FastifyRequest): string | undefined {
  return identities.get(req)?.tenant?.name;
}

/**
 * Sends the admitted request's x-ratelimit-* with the answer and settles it when the response ends:
 * 'finish' (the last byte went out) or 'close' first (the client left). Prepended, so the charge is
 * in before the request's telemetry ends on the same events and writes the access log.
 */
export function meterHttp(reply: FastifyReply, admitted: AdmittedRequest, telemetry: ServedRequestTelemetry): void {
  reply.headers(admitted.headers);
  const finish = (succeeded: boolean): void => telemetry.charge(admitted.finish(succeeded));
  reply.raw.prependOnceListener('finish', () => finish(reply.raw.statusCode < 400));
  reply.raw.prependOnceListener('close', () => finish(false)); // after 'finish', the same charge again: a no-op
}

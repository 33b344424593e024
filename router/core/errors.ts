// The error catalogue: every error Switchyard raises has a SWY_ERR_* code here, which maps to one
// canonical (gRPC) code; each protocol has exactly one mapper from here to its wire format.
// test/unit/core/error-catalogue.test.ts keeps this table, the mappers and docs/ERRORS.md in step.

/** gRPC canonical status names (google/rpc/code.proto), the router's single internal vocabulary. */
export const CANONICAL_CODES = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type CanonicalCode = keyof typeof CANONICAL_CODES;

/** HTTP status for a canonical code (google/rpc/code.proto mapping). */
const HTTP_STATUS: Record<CanonicalCode, number> = {
  OK: 200,
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

interface CatalogueEntry {
  readonly canonical: CanonicalCode;
  /** Only where HTTP has a more precise status than the canonical mapping (413, 502). */
  readonly httpStatus?: number;
  readonly summary: string;
}

export const ERROR_CATALOGUE = {
  SWY_ERR_CFG_INVALID: { canonical: 'INVALID_ARGUMENT', summary: 'The configuration file failed validation; the router refuses to start.' },
  SWY_ERR_INPUT_MALFORMED_BODY: { canonical: 'INVALID_ARGUMENT', summary: 'The request body is not valid JSON (or its binary framing is inconsistent).' },
  SWY_ERR_INPUT_INVALID_FIELD: { canonical: 'INVALID_ARGUMENT', summary: 'A request field is missing, has the wrong type or is out of range; the message names the field.' },
  SWY_ERR_INPUT_TENSOR_DATATYPE: { canonical: 'INVALID_ARGUMENT', summary: 'A tensor has an unknown datatype, or its data does not fit the datatype; the message names the tensor.' },
  SWY_ERR_INPUT_TENSOR_SHAPE: { canonical: 'INVALID_ARGUMENT', summary: 'A tensor shape is invalid or does not match its data; the message names the tensor.' },
  SWY_ERR_INPUT_BODY_TOO_LARGE: { canonical: 'RESOURCE_EXHAUSTED', httpStatus: 413, summary: 'The request body exceeds limits.maxBodyBytes.' },
  SWY_ERR_INPUT_TENSOR_TOO_LARGE: { canonical: 'RESOURCE_EXHAUSTED', httpStatus: 413, summary: 'A request carries more tensor elements than limits.maxTensorElements.' },
  SWY_ERR_INPUT_UNSUPPORTED: { canonical: 'UNIMPLEMENTED', summary: 'The request uses a protocol feature Switchyard does not offer (e.g. shared-memory tensors).' },
  SWY_ERR_ADMIT_OVERLOADED: { canonical: 'UNAVAILABLE', summary: 'The router is at limits.maxInFlight requests or draining; retry after the Retry-After delay (per-client rate limits, not load shedding, answer 429).' },
  SWY_ERR_ADMIT_UNAUTHENTICATED: { canonical: 'UNAUTHENTICATED', summary: 'Auth is on and the request carries no API key (Authorization: Bearer; V2 REST and gRPC also the auth.headerName header), or a key the router does not know.' },
  SWY_ERR_ADMIT_MODEL_FORBIDDEN: { canonical: 'PERMISSION_DENIED', summary: "The API key's tenant may not use this model (the tenant's models globs); with auth.unauthorizedModel: not-found the answer is the unknown-model 404 instead." },
  SWY_ERR_ADMIT_RATE_LIMITED: { canonical: 'RESOURCE_EXHAUSTED', summary: "The tenant is over a requestsPerMinute, tokensPerMinute or concurrentRequests limit; retry after the Retry-After delay (the x-ratelimit-* headers say which)." },
  SWY_ERR_ADMIT_STATE_UNAVAILABLE: { canonical: 'UNAVAILABLE', summary: 'The shared limit state (Redis) did not answer and state.outage is failClosed, so limited requests are refused; retry after the Retry-After delay.' },
  SWY_ERR_ROUTE_NOT_FOUND: { canonical: 'NOT_FOUND', summary: 'No API at this path and method.' },
  SWY_ERR_ROUTE_MODEL_NOT_FOUND: { canonical: 'NOT_FOUND', summary: 'No route is configured for the requested model.' },
  SWY_ERR_ROUTE_MODEL_NOT_READY: { canonical: 'UNAVAILABLE', summary: 'The model is configured but no endpoint reports it ready.' },
  SWY_ERR_CLUSTER_NO_ENDPOINT: { canonical: 'UNAVAILABLE', summary: 'The cluster has no endpoint to send the request to.' },
  SWY_ERR_CLUSTER_OVERLOADED: { canonical: 'UNAVAILABLE', summary: 'Every endpoint of the cluster is at circuitBreaker.maxInFlightPerEndpoint and circuitBreaker.maxPending requests already wait; retry after the Retry-After delay.' },
  SWY_ERR_BATCH_QUEUE_FULL: { canonical: 'RESOURCE_EXHAUSTED', summary: "The model's batch queue already holds batching.maxQueueSize requests; retry after the Retry-After delay." },
  SWY_ERR_UPSTREAM_UNAVAILABLE: { canonical: 'UNAVAILABLE', summary: 'The upstream endpoint could not be reached or closed the connection.' },
  SWY_ERR_UPSTREAM_DEADLINE: { canonical: 'DEADLINE_EXCEEDED', summary: 'The upstream did not answer before the request deadline.' },
  SWY_ERR_UPSTREAM_REJECTED: { canonical: 'UNKNOWN', summary: "The upstream answered with an error; its status is passed on as the canonical code and its message is kept." },
  SWY_ERR_UPSTREAM_BAD_RESPONSE: { canonical: 'INTERNAL', httpStatus: 502, summary: 'The upstream answered with a response Switchyard cannot decode.' },
  SWY_ERR_REQUEST_CANCELLED: { canonical: 'CANCELLED', summary: 'The client cancelled the request or went away.' },
  SWY_ERR_INTERNAL: { canonical: 'INTERNAL', summary: 'An unexpected error inside Switchyard (a bug: please report it).' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface SwitchyardErrorOptions {
  cause?: unknown;
  /** Only SWY_ERR_UPSTREAM_REJECTED: the upstream's own status, passed on unchanged. */
  canonical?: CanonicalCode;
  /** The request field at fault, for protocols that report it (OpenAI `param`). */
  param?: string;
  /** Seconds a client should wait before retrying (Retry-After). */
  retryAfterS?: number;
  /** More response headers (HTTP) / trailing metadata (gRPC): `www-authenticate`, `x-ratelimit-*`. Lower-case names. */
  headers?: Readonly<Record<string, string>>;
}

export class SwitchyardError extends Error {
  readonly code: ErrorCode;
  readonly canonical: CanonicalCode;
  readonly param: string | undefined;
  readonly retryAfterS: number | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: ErrorCode, message: string, options: SwitchyardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwitchyardError';
    this.code = code;
    this.canonical = options.canonical ?? ERROR_CATALOGUE[code].canonical;
    this.param = options.param;
    this.retryAfterS = options.retryAfterS;
    this.headers = options.headers;
  }

  get httpStatus(): number {
    const entry: CatalogueEntry = ERROR_CATALOGUE[this.code];
    return entry.httpStatus ?? httpStatusFor(this.canonical);
  }

  get grpcCode(): number {
    return CANONICAL_CODES[this.canonical];
  }
}

export function httpStatusFor(canonical: CanonicalCode): number {
  return HTTP_STATUS[canonical];
}

export function isCanonicalCode(name: string): name is CanonicalCode {
  return Object.hasOwn(CANONICAL_CODES, name);
}

const CANONICAL_BY_NUMBER = new Map<number, CanonicalCode>(
  Object.entries(CANONICAL_CODES).map(([name, num]) => [num, name as CanonicalCode]),
);

export function canonicalFromGrpc(code: number): CanonicalCode {
  return CANONICAL_BY_NUMBER.get(code) ?? 'UNKNOWN';
}

/** Any thrown value as a SwitchyardError; unknown throwables become SWY_ERR_INTERNAL (the cause is kept). */
export function asSwitchyardError(err: unknown): SwitchyardError {
  if (err instanceof SwitchyardError) return err;
  return new SwitchyardError('SWY_ERR_INTERNAL', 'internal error', { cause: err });
}

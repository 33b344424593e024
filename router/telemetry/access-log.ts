// The access log: one JSON line per finished request, at info level, with what an operator needs to
// find it again (request id, trace id) and to read what happened (where it went, how it ended, how
// long it took). Never bodies, prompts, API keys or headers.

export interface AccessLogEntry {
  readonly requestId: string;
  readonly traceId: string | undefined;
  readonly listener: string;
  /** The configured model, or what the client asked for (cut to MODEL_CHARS) when it is not one. */
  readonly model: string | undefined;
  readonly variant: string | undefined;
  /** The endpoint of the last attempt, and how many attempts there were (retries + 1). */
  readonly endpoint: string | undefined;
  readonly attempts: number | undefined;
  readonly status: number;
  readonly durationMs: number;
  /** The catalogue code (SWY_ERR_*) when the request failed, also mid-stream after a 200. */
  readonly code: string | undefined;
  /** The tenant of the request's API key (the name, never the key); absent without one. */
  readonly tenant?: string | undefined;
  /** What the tenant was charged (its configured price); absent without a price. */
  readonly costUsd?: number | undefined;
}

export interface AccessLogger {
  info(obj: object): void;
}

/** A model name a client sent is echoed at most this long. */
const MODEL_CHARS = 128;

export function writeAccessLog(logger: AccessLogger, entry: AccessLogEntry): void {
  const line: Record<string, unknown> = { event: 'access', requestId: entry.requestId };
  // Undefined fields are left out rather than written as null, so the line stays short.
  if (entry.traceId !== undefined) line.traceId = entry.traceId;
  line.listener = entry.listener;
  if (entry.model !== undefined) line.model = entry.model.length > MODEL_CHARS ? entry.model.slice(0, MODEL_CHARS) : entry.model;
  if (entry.variant !== undefined) line.variant = entry.variant;
  if (entry.endpoint !== undefined) line.endpoint = entry.endpoint;
  if (entry.attempts !== undefined) line.attempts = entry.attempts;
  line.status = entry.status;
  line.durationMs = Math.round(entry.durationMs * 1000) / 1000;
  if (entry.code !== undefined) line.code = entry.code;
  if (entry.tenant !== undefined) line.tenant = entry.tenant;
  if (entry.costUsd !== undefined) line.costUsd = entry.costUsd;
  logger.info(line);
}

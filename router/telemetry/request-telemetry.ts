// The seam between the request path and what observes it. A listener opens one RequestTelemetry
// per request and puts it in the CallContext; every layer reports into it; metrics, traces and the
// access log are sinks behind it, so the request path never knows which ones are on.

export type ListenerName = 'openai' | 'kserve-rest' | 'kserve-grpc';

export interface AttemptInfo {
  readonly cluster: string;
  readonly endpoint: string;
  /** 0 for the first attempt, 1.. for retries. */
  readonly retry: number;
}

/** One upstream attempt (one endpoint, one call). */
export interface AttemptTelemetry {
  /** W3C trace context (`traceparent`, `tracestate`) of this attempt, for gRPC metadata / HTTP headers. */
  inject(set: (key: string, value: string) => void): void;
  /** The attempt produced its answer (unary) or its first result (streams): `error` undefined = success. */
  end(error?: unknown): void;
}

/** One batch sent upstream on behalf of several requests. */
export interface BatchTelemetry {
  inject(set: (key: string, value: string) => void): void;
  end(error?: unknown): void;
}

export interface RequestTelemetry {
  /** The trace this request belongs to (for logs), when tracing is on. */
  readonly traceId: string | undefined;
  /** Routing chose: client model and variant. */
  routed(model: string, variant: string): void;
  attempt(info: AttemptInfo): AttemptTelemetry;
  /**
   * The first token delta of a generation (streamed, or collected for a non-streaming answer), the
   * first relayed byte of an upstream's SSE stream, or the first response of a V2 stream. Once.
   */
  firstToken(): void;
  /** Each later token delta of a generation (inter-token latency is measured between these). */
  token(): void;
  /** Exact token counts from the backend, when known. */
  usage(promptTokens: number, completionTokens: number): void;
  /** The response is complete (streams: fully written or abandoned). Exactly once. */
  end(outcome: { readonly status: number; readonly error?: unknown }): void;
}

/** Creates request telemetry, and the app-wide events that belong to no single request. */
export interface Telemetry {
  request(listener: ListenerName, headers: Readonly<Record<string, string | string[] | undefined>>): RequestTelemetry;
  /** A batch of `members` requests sent as one upstream call (members' traces are linked to it). */
  batch(model: string, members: readonly RequestTelemetry[]): BatchTelemetry;
}

// The trace sink behind the telemetry seam: one SERVER span per request (continuing the caller's
// W3C trace), one CLIENT child span per upstream attempt (retries are siblings), and one span per
// merged batch that links to its members' request spans. The attempt's (or batch's) context is what
// backends put into gRPC metadata / HTTP headers, so upstreams that trace join the same trace.
// Disabled tracing is no object at all: createTracing returns undefined and nothing is started.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import type { NodeTracerProvider, SpanExporter } from '@opentelemetry/sdk-trace-node';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from '../config/schema.js';
import { asSwitchyardError, SwitchyardError } from '../core/errors.js';
import type { AttemptInfo, AttemptTelemetry, BatchTelemetry, ListenerName, RequestTelemetry, Telemetry } from './request-telemetry.js';
import { createSpanExporter, exporterEndpoint, warnOnExportFailure, type TracingLogger } from './tracing-exporter.js';
import { createTracerProvider, extractTraceContext, injectTraceContext, type Carrier } from './tracing-provider.js';

// Incubating semantic-convention names, copied as the semconv package advises (its /incubating entry may change in a minor).
const ATTR_RPC_SYSTEM = 'rpc.system';
const ATTR_RPC_SERVICE = 'rpc.service';
const ATTR_RPC_METHOD = 'rpc.method';
const ATTR_RPC_GRPC_STATUS_CODE = 'rpc.grpc.status_code';
const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
const EVENT_GEN_AI_FIRST_TOKEN = 'gen_ai.first_token';

export const GRPC_SERVICE = 'inference.GRPCInferenceService';
const SHUTDOWN_TIMEOUT_MS = 5_000;

/** The trace sink: a Telemetry that also flushes on close. */
export interface Tracing extends Telemetry {
  /**
   * `operation` names the span: `POST /v1/chat/completions`, `POST /v2/models/{model}/infer`,
   * `inference.GRPCInferenceService/ModelInfer`. Without it the span is named after the listener
   * (and the model, once routed).
   */
  request(listener: ListenerName, headers: Carrier, operation?: string): RequestTelemetry;
  /** `members` must be the RequestTelemetry objects this Tracing returned (others get no link). */
  batch(model: string, members: readonly RequestTelemetry[]): BatchTelemetry;
  /** Exports what is still buffered (bounded wait), then stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Replaces the configured exporter (tests: an InMemorySpanExporter). */
  readonly exporter?: SpanExporter;
}

export function createTracing(config: TracingConfig, logger: TracingLogger, options: TracingOptions = {}): Tracing | undefined {
  if (!config.enabled) return undefined;
  const endpoint = exporterEndpoint(config);
  const exporter = options.exporter ?? warnOnExportFailure(createSpanExporter(config), logger, endpoint);
  const provider = createTracerProvider({ serviceName: config.serviceName, sampleRatio: config.sampleRatio, exporter });
  if (options.exporter === undefined) {
    logger.info(
      { event: 'tracing', exporter: config.exporter, endpoint, sampleRatio: config.sampleRatio, serviceName: config.serviceName },
      `tracing on: ${config.exporter} to ${endpoint}, sampling ${config.sampleRatio} of new traces`,
    );
  }
  return new OtelTracing(provider, logger);
}

class OtelTracing implements Tracing {
  readonly #provider: NodeTracerProvider;
  readonly #tracer: Tracer;
  readonly #logger: TracingLogger;
  #stopped: Promise<void> | undefined;

  constructor(provider: NodeTracerProvider, logger: TracingLogger) {
    this.#provider = provider;
    this.#tracer = provider.getTracer('switchyard');
    this.#logger = logger;
  }

  request(listener: ListenerName, headers: Carrier, operation?: string): RequestTelemetry {
    return new TracedRequest(this.#tracer, listener, extractTraceContext(headers), operation);
  }

  batch(model: string, members: readonly RequestTelemetry[]): BatchTelemetry {
    const traced = members.filter((m): m is TracedRequest => m instanceof TracedRequest);
    const links: Link[] = traced.map((m) => ({ context: m.spanContext }));
    const span = this.#tracer.startSpan(
      `batch ${model}`,
      { kind: SpanKind.CLIENT, links, attributes: { 'switchyard.batch.model': model, 'switchyard.batch.size': members.length } },
      ROOT_CONTEXT,
    );
    // Both ways: from a member's trace one can open the batch that carried it.
    for (const member of traced) member.linkBatch(span.spanContext());
    return new TracedCall(span);
  }

  shutdown(): Promise<void> {
    this.#stopped ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#logger.warn({ event: 'trace-export-timeout' }, `spans not exported within ${SHUTDOWN_TIMEOUT_MS} ms of shutdown were dropped`);
        resolve();
      }, SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      // A failed final export was already logged by the exporter wrapper.
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#provider.shutdown().then(done, done);
    });
    return this.#stopped;
  }
}

interface SpanNaming {
  readonly name: string;
  readonly attributes: Attributes;
  /** The name is the listener's, to be completed with the model once routed. */
  readonly provisional: boolean;
}

function serverSpanNaming(listener: ListenerName, operation: string | undefined): SpanNaming {
  if (listener === 'kserve-grpc') {
    const method = operation?.startsWith(`${GRPC_SERVICE}/`) === true ? operation.slice(GRPC_SERVICE.length + 1) : undefined;
    const attributes: Attributes = { [ATTR_RPC_SYSTEM]: 'grpc', [ATTR_RPC_SERVICE]: GRPC_SERVICE, 'switchyard.listener': listener };
    if (method !== undefined) attributes[ATTR_RPC_METHOD] = method;
    return { name: method === undefined ? GRPC_SERVICE : `${GRPC_SERVICE}/${method}`, attributes, provisional: method === undefined };
  }
  const attributes: Attributes = { 'switchyard.listener': listener };
  const match = operation === undefined ? null : /^([A-Z]+) (\/\S*)$/.exec(operation);
  if (match === null) return { name: listener, attributes, provisional: true };
  const [, method, route] = match as unknown as [string, string, string];
  attributes[ATTR_HTTP_REQUEST_METHOD] = method;
  attributes[ATTR_HTTP_ROUTE] = route;
  if (route.endsWith('/chat/completions')) attributes[ATTR_GEN_AI_OPERATION_NAME] = 'chat';
  else if (route.endsWith('/completions')) attributes[ATTR_GEN_AI_OPERATION_NAME] = 'text_completion';
  return { name: `${method} ${route}`, attributes, provisional: false };
}

/** Server-side failures mark a span ERROR; client errors (4xx, cancels) do not, as the HTTP and RPC conventions say. */
function isServerError(status: number, error: unknown): boolean {
  if (status >= 500 && status < 600) return true;
  return error !== undefined && asSwitchyardError(error).httpStatus >= 500;
}

function errorType(error: unknown): string {
  if (error instanceof SwitchyardError) return error.code;
  return error instanceof Error ? error.name : 'Error';
}

function recordError(span: Span, error: unknown): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  if (error instanceof Error) span.recordException(error);
}

class TracedRequest implements RequestTelemetry {
  readonly #tracer: Tracer;
  readonly #listener: ListenerName;
  readonly #span: Span;
  readonly #context: Context;
  readonly #naming: SpanNaming;
  /** Attempt spans still open: a successful attempt's span lasts until the response is complete. */
  readonly #attempts = new Set<TracedAttempt>();
  #firstToken = false;
  #ended = false;

  constructor(tracer: Tracer, listener: ListenerName, parent: Context, operation: string | undefined) {
    this.#tracer = tracer;
    this.#listener = listener;
    this.#naming = serverSpanNaming(listener, operation);
    this.#span = tracer.startSpan(this.#naming.name, { kind: SpanKind.SERVER, attributes: this.#naming.attributes }, parent);
    this.#context = trace.setSpan(parent, this.#span);
  }

  get traceId(): string {
    return this.#span.spanContext().traceId;
  }

  get spanContext(): SpanContext {
    return this.#span.spanContext();
  }

  routed(model: string, variant: string): void {
    // gen_ai.* only where the API is a GenAI one; switchyard.model on every request, for search.
    const attributes: Attributes = { 'switchyard.model': model, 'switchyard.variant': variant };
    if (this.#listener === 'openai') attributes[ATTR_GEN_AI_REQUEST_MODEL] = model;
    this.#span.setAttributes(attributes);
    if (this.#naming.provisional) this.#span.updateName(`${this.#naming.name} ${model}`);
  }

  attempt(info: AttemptInfo): AttemptTelemetry {
    this.#span.setAttribute('switchyard.endpoint', info.endpoint);
    const attempt = new TracedAttempt(this.#tracer, this.#context, info, this);
    if (!this.#ended) this.#attempts.add(attempt);
    return attempt;
  }

  firstToken(): void {
    if (this.#firstToken) return;
    this.#firstToken = true;
    this.#span.addEvent(EVENT_GEN_AI_FIRST_TOKEN);
  }

  token(): void {
    // Per-token timing is a metric (inter-token latency); a span event per token would bloat traces.
  }

  usage(promptTokens: number, completionTokens: number): void {
    this.#span.setAttributes({ [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: promptTokens, [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: completionTokens });
  }

  end(outcome: { readonly status: number; readonly error?: unknown }): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#listener === 'kserve-grpc') {
      this.#span.setAttribute(ATTR_RPC_GRPC_STATUS_CODE, outcome.error === undefined ? 0 : asSwitchyardError(outcome.error).grpcCode);
    } else {
      this.#span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.status);
    }
    if (isServerError(outcome.status, outcome.error)) recordError(this.#span, outcome.error ?? new Error(`status ${outcome.status}`));
    for (const attempt of this.#attempts) attempt.close();
    this.#attempts.clear();
    this.#span.end();
  }

  /** A merged batch carried this request upstream. */
  linkBatch(batch: SpanContext): void {
    this.#span.addLink({ context: batch, attributes: { 'switchyard.link': 'batch' } });
  }

  get ended(): boolean {
    return this.#ended;
  }

  forget(attempt: TracedAttempt): void {
    this.#attempts.delete(attempt);
  }
}

/** A span whose context goes upstream: one attempt, or one merged batch. */
class TracedCall implements BatchTelemetry {
  protected readonly span: Span;
  #context: Context | undefined;
  protected done = false;

  constructor(span: Span) {
    this.span = span;
  }

  inject(set: (key: string, value: string) => void): void {
    this.#context ??= trace.setSpan(ROOT_CONTEXT, this.span);
    injectTraceContext(this.#context, set);
  }

  end(error?: unknown): void {
    if (this.done) return;
    this.done = true;
    if (error !== undefined) recordError(this.span, error);
    this.span.end();
  }
}

class TracedAttempt extends TracedCall implements AttemptTelemetry {
  readonly #request: TracedRequest;
  #answered = false;

  constructor(tracer: Tracer, parent: Context, info: AttemptInfo, request: TracedRequest) {
    const attributes: Attributes = { 'switchyard.cluster': info.cluster, 'switchyard.endpoint': info.endpoint, 'switchyard.retry': info.retry };
    const colon = info.endpoint.lastIndexOf(':');
    if (colon > 0) {
      attributes[ATTR_SERVER_ADDRESS] = info.endpoint.slice(0, colon).replace(/^\[|\]$/g, '');
      const port = Number(info.endpoint.slice(colon + 1));
      if (Number.isInteger(port)) attributes[ATTR_SERVER_PORT] = port;
    }
    super(tracer.startSpan(`upstream ${info.cluster}`, { kind: SpanKind.CLIENT, attributes }, parent));
    this.#request = request;
  }

  /** A failed attempt ends now; a successful one when its request's response is complete (streams keep flowing from it). */
  override end(error?: unknown): void {
    if (this.done) return;
    if (error !== undefined || this.#request.ended) {
      this.#request.forget(this);
      super.end(error);
      return;
    }
    if (this.#answered) return;
    this.#answered = true;
    this.span.addEvent('switchyard.first_result');
  }

  close(): void {
    super.end();
  }
}

// The dev runtime joining a caller's trace, as Triton (--trace-config mode=opentelemetry) and vLLM
// (--otlp-traces-endpoint) do: one SERVER span per inference, the child of the `traceparent` that
// came in the gRPC metadata or HTTP headers, exported with OTLP/HTTP (JSON) as service
// `switchyard-dev-runtime`. Off unless --otlp-endpoint is given; then `undefined` everywhere.
import type { Metadata } from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode, type Attributes, type Tracer } from '@opentelemetry/api';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createSpanExporter } from '../../router/telemetry/tracing-exporter.js';
import { createTracerProvider, extractTraceContext, type Carrier } from '../../router/telemetry/tracing-provider.js';

export type { Carrier };

export const RUNTIME_SERVICE_NAME = 'switchyard-dev-runtime';
const SHUTDOWN_TIMEOUT_MS = 2_000;

export interface InferenceOutcome {
  /** gRPC status of the request (0 = OK); for the gRPC services. */
  readonly grpcCode?: number;
  /** HTTP status of the response; for the OpenAI port. */
  readonly httpStatus?: number;
  readonly message?: string;
  readonly attributes?: Attributes;
}

export interface InferenceSpan {
  /** Ends the span once; server-side failures (gRPC UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS, or HTTP 5xx) mark it ERROR. */
  end(outcome: InferenceOutcome): void;
}

const SERVER_ERROR_CODES = new Set([2, 4, 12, 13, 14, 15]);

export class RuntimeTracing {
  readonly #provider: NodeTracerProvider;
  readonly #tracer: Tracer;

  /** Undefined (tracing off, no cost) when `endpoint` is empty. */
  static create(endpoint: string): RuntimeTracing | undefined {
    return endpoint === '' ? undefined : new RuntimeTracing(endpoint);
  }

  private constructor(endpoint: string) {
    const exporter = createSpanExporter({ exporter: 'otlp-http', endpoint });
    // Ratio 1: every inference is recorded unless the caller's traceparent says it is not sampled.
    this.#provider = createTracerProvider({ serviceName: RUNTIME_SERVICE_NAME, sampleRatio: 1, exporter });
    this.#tracer = this.#provider.getTracer(RUNTIME_SERVICE_NAME);
  }

  start(name: string, carrier: Carrier, attributes: Attributes): InferenceSpan {
    const span = this.#tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, extractTraceContext(carrier));
    let ended = false;
    return {
      end(outcome) {
        if (ended) return;
        ended = true;
        if (outcome.attributes !== undefined) span.setAttributes(outcome.attributes);
        if (outcome.grpcCode !== undefined) span.setAttribute('rpc.grpc.status_code', outcome.grpcCode);
        if (outcome.httpStatus !== undefined) span.setAttribute('http.response.status_code', outcome.httpStatus);
        if ((outcome.grpcCode !== undefined && SERVER_ERROR_CODES.has(outcome.grpcCode)) || (outcome.httpStatus ?? 0) >= 500) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message ?? '' });
        }
        span.end();
      },
    };
  }

  /** Flushes buffered spans (bounded), then stops exporting. */
  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#provider.shutdown().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
  }
}

/** A traced inference's attributes: the RPC (OTel RPC conventions) and the model/request as Triton's own traces name them. */
export function rpcAttributes(method: string, model: string, requestId: string): Attributes {
  return { 'rpc.system': 'grpc', 'rpc.service': 'inference.GRPCInferenceService', 'rpc.method': method, 'triton.model_name': model, 'triton.request_id': requestId };
}

/** The trace headers of a gRPC call's metadata, as a carrier. */
export function metadataCarrier(metadata: Metadata): Carrier {
  const carrier: Record<string, string[]> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const values = metadata.get(key);
    if (values.length > 0) carrier[key] = values.map(String);
  }
  return carrier;
}

// The OTel SDK pieces both the router and the dev runtime build: a tracer provider (never registered
// globally: spans are parented explicitly, so there is no context manager and nothing else in the
// process is affected) with a parent-based ratio sampler and a batch processor, and the W3C
// trace-context propagator over plain header/metadata records.
import {
  ROOT_CONTEXT,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type SpanKind,
  type TextMapGetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export interface TracerProviderOptions {
  readonly serviceName: string;
  /** Share of new traces recorded; a caller's sampled flag always decides for its own trace. */
  readonly sampleRatio: number;
  readonly exporter: SpanExporter;
}

export function createTracerProvider(options: TracerProviderOptions): NodeTracerProvider {
  return new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    sampler: new ParentBasedSampler({ root: new LinkedOrRatioSampler(options.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(options.exporter)],
  });
}

/**
 * Root spans: sampled by trace-id ratio, except a span linked to a sampled span (a batch carrying a
 * sampled member), which is always kept — a member's trace must not point at a batch that was dropped.
 */
class LinkedOrRatioSampler implements Sampler {
  readonly #ratio: TraceIdRatioBasedSampler;

  constructor(ratio: number) {
    this.#ratio = new TraceIdRatioBasedSampler(ratio);
  }

  shouldSample(context: Context, traceId: string, _name: string, _kind: SpanKind, _attributes: Attributes, links: Link[]): SamplingResult {
    if (links.some((link) => (link.context.traceFlags & TraceFlags.SAMPLED) !== 0)) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return this.#ratio.shouldSample(context, traceId);
  }

  toString(): string {
    return `LinkedOrRatioSampler{${this.#ratio.toString()}}`;
  }
}

/** Headers (HTTP, as Node gives them: lower-case names) or gRPC metadata flattened to a record. */
export type Carrier = Readonly<Record<string, string | string[] | undefined>>;

const propagator = new W3CTraceContextPropagator();

const getter: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** The caller's trace context (`traceparent`, `tracestate`), or the root context when there is none or it is invalid. */
export function extractTraceContext(carrier: Carrier): Context {
  return propagator.extract(ROOT_CONTEXT, carrier, getter);
}

/** Writes `traceparent` (and `tracestate` when there is one) for the span in `context`. */
export function injectTraceContext(context: Context, set: (key: string, value: string) => void): void {
  propagator.inject(context, undefined, { set: (_carrier, key, value) => set(key, value) });
}

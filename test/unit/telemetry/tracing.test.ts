// The trace sink against the SDK's in-memory exporter: span kinds, parents, links and attributes,
// what inject() writes, sampling, and the exporter choice (jaeger refused, OTLP JSON to a receiver,
// failed exports logged).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../../../router/config/schema.js';
import { SwitchyardError } from '../../../router/core/errors.js';
import { createTracing, type Tracing } from '../../../router/telemetry/tracing.js';
import { SPAN_KIND, startOtlpReceiver } from '../../helpers/otlp-receiver.js';

const ON: TracingConfig = { enabled: true, exporter: 'otlp-http', sampleRatio: 1, serviceName: 'switchyard-test' };
const CLIENT_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN_ID = 'b7ad6b7169203331';
/** How long the answer of the retry test streams after the attempt's first result. */
const STREAM_MS = 30;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0([01])$/;

interface LogLine {
  level: 'info' | 'warn';
  fields: object;
  message: string;
}

function recordingLogger(): { lines: LogLine[]; info(fields: object, message: string): void; warn(fields: object, message: string): void } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
  };
}

/** A Tracing exporting into memory; `finished()` flushes (the in-memory exporter's own shutdown would clear it). */
function memoryTracing(config: Partial<TracingConfig> = {}): { tracing: Tracing; finished(): Promise<ReadableSpan[]> } {
  const memory = new InMemorySpanExporter();
  const exporter: SpanExporter = { export: (spans, done) => memory.export(spans, done), shutdown: () => Promise.resolve() };
  const tracing = createTracing({ ...ON, ...config }, recordingLogger(), { exporter });
  assert.ok(tracing !== undefined);
  return {
    tracing,
    async finished() {
      await tracing.shutdown();
      return memory.getFinishedSpans();
    },
  };
}

function byName(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const span = spans.find((s) => s.name === name);
  assert.ok(span, `no span "${name}" among ${spans.map((s) => s.name).join(', ')}`);
  return span;
}

function injected(inject: (set: (key: string, value: string) => void) => void): Record<string, string> {
  const headers: Record<string, string> = {};
  inject((key, value) => {
    headers[key] = value;
  });
  return headers;
}

describe('createTracing', () => {
  test('disabled: no Tracing at all, nothing logged', () => {
    const logger = recordingLogger();
    assert.equal(createTracing({ ...ON, enabled: false }, logger), undefined);
    assert.deepEqual(logger.lines, []);
  });

  test('enabled: says where spans go', async () => {
    const logger = recordingLogger();
    const tracing = createTracing({ ...ON, endpoint: 'http://127.0.0.1:9/v1/traces' }, logger);
    assert.ok(tracing);
    assert.equal(logger.lines.length, 1);
    assert.match(logger.lines[0]?.message ?? '', /tracing on: otlp-http to http:\/\/127\.0\.0\.1:9\/v1\/traces/);
    await tracing.shutdown();
  });

  test("exporter 'jaeger' without its optional package fails the start with SWY_ERR_CFG_INVALID", () => {
    assert.throws(
      () => createTracing({ ...ON, exporter: 'jaeger' }, recordingLogger()),
      (err: unknown) =>
        err instanceof SwitchyardError &&
        err.code === 'SWY_ERR_CFG_INVALID' &&
        err.message ===
          "telemetry.tracing.exporter 'jaeger' needs the optional package @opentelemetry/exporter-jaeger (deprecated upstream); use otlp-http — Jaeger ingests OTLP on 4318",
    );
  });

  test('otlp-grpc builds and shuts down without a collector', async () => {
    const tracing = createTracing({ ...ON, exporter: 'otlp-grpc', endpoint: 'http://127.0.0.1:9' }, recordingLogger());
    assert.ok(tracing);
    await tracing.shutdown();
  });
});

describe('request spans', () => {
  test("a SERVER span continues the caller's traceparent and carries the request's attributes", async () => {
    const { tracing, finished } = memoryTracing();
    const request = tracing.request('openai', { traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`, tracestate: 'vendor=a' }, 'POST /v1/chat/completions');
    assert.equal(request.traceId, CLIENT_TRACE_ID);
    request.routed('chat-model', 'canary');
    request.firstToken();
    request.token();
    request.firstToken();
    request.usage(12, 34);
    request.end({ status: 200 });
    request.end({ status: 500 }); // exactly once: the second is ignored

    const [span, ...rest] = await finished();
    assert.equal(rest.length, 0);
    assert.ok(span);
    assert.equal(span.name, 'POST /v1/chat/completions');
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.spanContext().traceId, CLIENT_TRACE_ID);
    assert.equal(span.parentSpanContext?.spanId, CLIENT_SPAN_ID);
    assert.equal(span.parentSpanContext?.isRemote, true);
    assert.equal(span.spanContext().traceState?.get('vendor'), 'a');
    assert.deepEqual(span.attributes, {
      'switchyard.listener': 'openai',
      'http.request.method': 'POST',
      'http.route': '/v1/chat/completions',
      'gen_ai.operation.name': 'chat',
      'switchyard.model': 'chat-model',
      'gen_ai.request.model': 'chat-model',
      'switchyard.variant': 'canary',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 34,
      'http.response.status_code': 200,
    });
    assert.deepEqual(span.events.map((e) => e.name), ['gen_ai.first_token']);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  test('no (or a malformed) traceparent starts a new trace', async () => {
    const { tracing, finished } = memoryTracing();
    const fresh = tracing.request('kserve-rest', {}, 'POST /v2/models/{model}/infer');
    const malformed = tracing.request('kserve-rest', { traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' });
    fresh.end({ status: 200 });
    malformed.end({ status: 200 });
    const spans = await finished();
    assert.equal(spans.length, 2);
    for (const span of spans) {
      assert.equal(span.parentSpanContext, undefined);
      assert.match(span.spanContext().traceId, /^[0-9a-f]{32}$/);
    }
    assert.equal(fresh.traceId, spans[0]?.spanContext().traceId);
    assert.notEqual(spans[0]?.spanContext().traceId, spans[1]?.spanContext().traceId);
  });

  test('gRPC: rpc.* attributes, the canonical status code, ERROR only for server-side failures', async () => {
    const { tracing, finished } = memoryTracing();
    const ok = tracing.request('kserve-grpc', {}, 'inference.GRPCInferenceService/ModelInfer');
    ok.end({ status: 200 });
    const missing = tracing.request('kserve-grpc', {}, 'inference.GRPCInferenceService/ModelStreamInfer');
    missing.end({ status: 404, error: new SwitchyardError('SWY_ERR_ROUTE_MODEL_NOT_FOUND', 'no such model') });
    const down = tracing.request('kserve-grpc', {}, 'inference.GRPCInferenceService/ModelInfer');
    down.end({ status: 503, error: new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'connection refused') });
    const [okSpan, missingSpan, downSpan] = await finished();

    assert.equal(okSpan?.name, 'inference.GRPCInferenceService/ModelInfer');
    assert.deepEqual(okSpan?.attributes, {
      'rpc.system': 'grpc',
      'rpc.service': 'inference.GRPCInferenceService',
      'rpc.method': 'ModelInfer',
      'switchyard.listener': 'kserve-grpc',
      'rpc.grpc.status_code': 0,
    });
    assert.equal(missingSpan?.attributes['rpc.grpc.status_code'], 5);
    assert.equal(missingSpan?.status.code, SpanStatusCode.UNSET);
    assert.equal(downSpan?.attributes['rpc.grpc.status_code'], 14);
    assert.equal(downSpan?.attributes['error.type'], 'SWY_ERR_UPSTREAM_UNAVAILABLE');
    assert.equal(downSpan?.status.code, SpanStatusCode.ERROR);
    assert.equal(downSpan?.status.message, 'connection refused');
    assert.deepEqual(downSpan?.events.map((e) => e.name), ['exception']);
  });

  test('HTTP: 5xx is ERROR, 4xx and client cancels are not', async () => {
    const { tracing, finished } = memoryTracing();
    tracing.request('openai', {}, 'POST /v1/completions').end({ status: 502 });
    tracing.request('openai', {}, 'POST /v1/completions').end({ status: 400, error: new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', 'bad') });
    tracing.request('openai', {}, 'POST /v1/completions').end({ status: 499, error: new SwitchyardError('SWY_ERR_REQUEST_CANCELLED', 'gone') });
    const spans = await finished();
    assert.deepEqual(
      spans.map((s) => [s.attributes['http.response.status_code'], s.status.code, s.attributes['gen_ai.operation.name']]),
      [
        [502, SpanStatusCode.ERROR, 'text_completion'],
        [400, SpanStatusCode.UNSET, 'text_completion'],
        [499, SpanStatusCode.UNSET, 'text_completion'],
      ],
    );
  });

  test('without an operation the span is named after the listener, then the routed model', async () => {
    const { tracing, finished } = memoryTracing();
    const http = tracing.request('openai', {});
    http.routed('tiny-llm', 'default');
    http.end({ status: 200 });
    const grpc = tracing.request('kserve-grpc', {});
    grpc.routed('iris', 'default');
    grpc.end({ status: 200 });
    const [httpSpan, grpcSpan] = await finished();
    assert.deepEqual([httpSpan?.name, grpcSpan?.name], ['openai tiny-llm', 'inference.GRPCInferenceService iris']);
    assert.equal(grpcSpan?.attributes['switchyard.model'], 'iris');
    assert.equal(grpcSpan?.attributes['gen_ai.request.model'], undefined, 'gen_ai.* only on the OpenAI API');
  });
});

describe('attempt spans', () => {
  test('a retry: two CLIENT children of the server span, the failed one ERROR, the one that answered lasting to the end', async () => {
    const { tracing, finished } = memoryTracing();
    const request = tracing.request('openai', { traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01` }, 'POST /v1/chat/completions');
    const first = request.attempt({ cluster: 'gpu', endpoint: '10.0.0.1:8001', retry: 0 });
    first.end(new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'connect ECONNREFUSED'));
    const second = request.attempt({ cluster: 'gpu', endpoint: '[::1]:8001', retry: 1 });
    second.end();
    request.firstToken();
    await delay(STREAM_MS); // the answer streams on after the attempt's first result
    request.end({ status: 200 });

    const spans = await finished();
    const server = byName(spans, 'POST /v1/chat/completions');
    const attempts = spans.filter((s) => s.name === 'upstream gpu');
    assert.equal(attempts.length, 2);
    for (const attempt of attempts) {
      assert.equal(attempt.kind, SpanKind.CLIENT);
      assert.equal(attempt.spanContext().traceId, CLIENT_TRACE_ID);
      assert.equal(attempt.parentSpanContext?.spanId, server.spanContext().spanId);
    }
    const [failed, answered] = [...attempts].sort((a, b) => Number(a.attributes['switchyard.retry']) - Number(b.attributes['switchyard.retry']));
    assert.deepEqual(failed?.attributes, {
      'switchyard.cluster': 'gpu',
      'switchyard.endpoint': '10.0.0.1:8001',
      'switchyard.retry': 0,
      'server.address': '10.0.0.1',
      'server.port': 8001,
      'error.type': 'SWY_ERR_UPSTREAM_UNAVAILABLE',
    });
    assert.equal(failed?.status.code, SpanStatusCode.ERROR);
    assert.equal(answered?.attributes['switchyard.retry'], 1);
    assert.equal(answered?.attributes['server.address'], '::1');
    assert.equal(answered?.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(answered?.events.map((e) => e.name), ['switchyard.first_result']);
    // The answering attempt ends with the response (streams keep flowing from it), the failed one at once.
    assert.ok(hrMs(answered?.duration) >= STREAM_MS - 1, `answering attempt lasted ${hrMs(answered?.duration)} ms`);
    assert.ok(hrMs(failed?.duration) < STREAM_MS - 1, `failed attempt lasted ${hrMs(failed?.duration)} ms`);
    assert.equal(server.attributes['switchyard.endpoint'], '[::1]:8001');
  });

  test("inject writes the attempt span's own traceparent, and the caller's tracestate", async () => {
    const { tracing, finished } = memoryTracing();
    const request = tracing.request('kserve-grpc', { traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`, tracestate: 'vendor=a' });
    const attempt = request.attempt({ cluster: 'dev', endpoint: '127.0.0.1:8001', retry: 0 });
    const headers = injected((set) => attempt.inject(set));
    attempt.end();
    request.end({ status: 200 });
    const spans = await finished();
    const attemptSpan = byName(spans, 'upstream dev');

    assert.deepEqual(Object.keys(headers).sort(), ['traceparent', 'tracestate']);
    const match = TRACEPARENT.exec(headers.traceparent ?? '');
    assert.ok(match, headers.traceparent);
    assert.equal(match[1], CLIENT_TRACE_ID);
    assert.equal(match[2], attemptSpan.spanContext().spanId);
    assert.equal(match[3], '1');
    assert.equal(headers.tracestate, 'vendor=a');
  });

  test("an unsampled caller: nothing recorded, but the trace id and the not-sampled flag still go upstream", async () => {
    const { tracing, finished } = memoryTracing();
    const request = tracing.request('openai', { traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-00` });
    const headers = injected((set) => request.attempt({ cluster: 'dev', endpoint: 'a:1', retry: 0 }).inject(set));
    request.end({ status: 200 });
    assert.equal(request.traceId, CLIENT_TRACE_ID);
    assert.equal(TRACEPARENT.exec(headers.traceparent ?? '')?.[3], '0');
    assert.deepEqual(await finished(), []);
  });
});

describe('batch spans', () => {
  test("one span per batch, linked to every member's server span (and back); its inject is the batch's context", async () => {
    const { tracing, finished } = memoryTracing();
    const members = [0, 1, 2].map((i) => tracing.request('kserve-rest', { traceparent: `00-${CLIENT_TRACE_ID.slice(0, 31)}${i}-${CLIENT_SPAN_ID}-01` }, 'POST /v2/models/{model}/infer'));
    const batch = tracing.batch('iris', members);
    const headers = injected((set) => batch.inject(set));
    batch.end();
    for (const m of members) m.end({ status: 200 });

    const spans = await finished();
    const batchSpan = byName(spans, 'batch iris');
    const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
    assert.equal(servers.length, 3);
    assert.equal(batchSpan.kind, SpanKind.CLIENT);
    assert.equal(batchSpan.parentSpanContext, undefined);
    assert.deepEqual(batchSpan.attributes, { 'switchyard.batch.model': 'iris', 'switchyard.batch.size': 3 });
    assert.deepEqual(
      batchSpan.links.map((l) => `${l.context.traceId}/${l.context.spanId}`).sort(),
      servers.map((s) => `${s.spanContext().traceId}/${s.spanContext().spanId}`).sort(),
    );
    for (const server of servers) {
      assert.deepEqual(server.links.map((l) => l.context.spanId), [batchSpan.spanContext().spanId]);
      assert.equal(server.links[0]?.attributes?.['switchyard.link'], 'batch');
    }
    const match = TRACEPARENT.exec(headers.traceparent ?? '');
    assert.equal(match?.[1], batchSpan.spanContext().traceId);
    assert.equal(match?.[2], batchSpan.spanContext().spanId);
  });

  test('a batch carrying a sampled member is kept even when new traces are not sampled', async () => {
    const { tracing, finished } = memoryTracing({ sampleRatio: 0 });
    const unsampled = tracing.request('kserve-rest', {});
    const sampled = tracing.request('kserve-rest', { traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01` });
    const lonely = tracing.batch('iris', [unsampled]);
    lonely.end();
    const carrying = tracing.batch('iris', [unsampled, sampled]);
    carrying.end(new SwitchyardError('SWY_ERR_UPSTREAM_DEADLINE', 'too slow'));
    unsampled.end({ status: 200 });
    sampled.end({ status: 504 });
    const spans = await finished();
    assert.deepEqual(spans.map((s) => s.name).sort(), ['batch iris', 'kserve-rest']);
    const batchSpan = byName(spans, 'batch iris');
    assert.equal(batchSpan.attributes['switchyard.batch.size'], 2);
    assert.equal(batchSpan.links.length, 2);
    assert.equal(batchSpan.status.code, SpanStatusCode.ERROR);
  });
});

describe('export', () => {
  test('otlp-http sends OTLP JSON that a receiver on /v1/traces reads', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const tracing = createTracing({ ...ON, endpoint: receiver.url }, recordingLogger());
      assert.ok(tracing);
      const request = tracing.request('openai', { traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01` }, 'POST /v1/chat/completions');
      request.attempt({ cluster: 'dev', endpoint: '127.0.0.1:1', retry: 0 }).end();
      request.end({ status: 200 });
      await tracing.shutdown();
      const spans = await receiver.waitFor((s) => s.length === 2);
      const server = spans.find((s) => s.kind === SPAN_KIND.SERVER);
      const client = spans.find((s) => s.kind === SPAN_KIND.CLIENT);
      assert.equal(server?.service, 'switchyard-test');
      assert.equal(server?.traceId, CLIENT_TRACE_ID);
      assert.equal(server?.parentSpanId, CLIENT_SPAN_ID);
      assert.equal(server?.attributes['http.response.status_code'], 200);
      assert.equal(client?.parentSpanId, server?.spanId);
      assert.equal(client?.attributes['switchyard.retry'], 0);
    } finally {
      await receiver.close();
    }
  });

  test('spans that cannot be exported are reported once, not silently dropped', async () => {
    // A collector refusing the export (400 is not retried; a refused connection is, for seconds).
    const refusing = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"no"}'));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/v1/traces`;
    const logger = recordingLogger();
    const tracing = createTracing({ ...ON, endpoint: url }, logger);
    assert.ok(tracing);
    tracing.request('openai', {}).end({ status: 200 });
    tracing.request('openai', {}).end({ status: 200 });
    await tracing.shutdown();
    refusing.closeAllConnections();
    refusing.close();
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(logger.lines));
    assert.match(warnings[0]?.message ?? '', /could not export spans to http:\/\/127\.0\.0\.1:\d+\/v1\/traces/);
    assert.equal((warnings[0]?.fields as { droppedSpans?: number }).droppedSpans, 2);
  });
});

function hrMs(time: readonly [number, number] | undefined): number {
  assert.ok(time);
  return time[0] * 1e3 + time[1] / 1e6;
}

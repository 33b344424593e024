// The composite behind the seam: every hook reaches the metrics sink and the trace sink, the trace
// sink supplies trace id and injected context, a batch is opened with the members' own trace
// requests, the access log writes one line per request (without headers or bodies) when it is on,
// and log lines written while a traced request is served carry its trace id.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import pino from 'pino';
import { configSchema } from '../../../router/config/schema.js';
import { SwitchyardError } from '../../../router/core/errors.js';
import { createTelemetry, NO_TELEMETRY, type TracingSink } from '../../../router/telemetry/create-telemetry.js';
import { Metrics, modelVariants } from '../../../router/telemetry/metrics.js';
import type { AttemptInfo, BatchTelemetry, RequestTelemetry } from '../../../router/telemetry/request-telemetry.js';
import { traceLogMixin, withTraceLogs } from '../../../router/telemetry/trace-log-context.js';
import { Scrape } from '../../helpers/prometheus-scrape.js';

const config = configSchema.parse({
  clusters: { dev: { backend: 'triton-grpc', endpoints: ['127.0.0.1:1'] } },
  models: { iris: { split: [{ cluster: 'dev' }] }, llm: { split: [{ name: 'stable', cluster: 'dev' }] } },
});

/** A trace sink that records every call it gets. */
class FakeTracing implements TracingSink {
  readonly calls: string[] = [];
  readonly requests: FakeTrace[] = [];
  readonly batches: { model: string; members: readonly RequestTelemetry[]; ended?: unknown }[] = [];
  request(listener: string, headers: Readonly<Record<string, unknown>>, operation?: string): RequestTelemetry {
    const trace = new FakeTrace(this.calls, `trace-${this.requests.length}`);
    this.calls.push(`request ${listener} ${String(headers.traceparent)} ${operation}`);
    this.requests.push(trace);
    return trace;
  }
  batch(model: string, members: readonly RequestTelemetry[]): BatchTelemetry {
    const record: { model: string; members: readonly RequestTelemetry[]; ended?: unknown } = { model, members };
    this.batches.push(record);
    return {
      inject: (set) => set('traceparent', 'batch-context'),
      end: (error) => {
        record.ended = error ?? 'ok';
      },
    };
  }
}

class FakeTrace implements RequestTelemetry {
  constructor(
    readonly calls: string[],
    readonly traceId: string,
  ) {}
  routed(model: string, variant: string) {
    this.calls.push(`routed ${model} ${variant}`);
  }
  attempt(info: AttemptInfo) {
    this.calls.push(`attempt ${info.endpoint} ${info.retry}`);
    return {
      inject: (set: (k: string, v: string) => void) => set('traceparent', `${this.traceId}-attempt-${info.retry}`),
      end: (error?: unknown) => this.calls.push(`attempt-end ${error === undefined ? 'ok' : 'error'}`),
    };
  }
  firstToken() {
    this.calls.push('firstToken');
  }
  token() {
    this.calls.push('token');
  }
  usage(p: number, c: number) {
    this.calls.push(`usage ${p} ${c}`);
  }
  end(outcome: { status: number; error?: unknown }) {
    this.calls.push(`end ${outcome.status}`);
  }
}

function captureLogger(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) {
        if (line === '') continue;
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level, mixin: traceLogMixin }, stream), lines, raw, flush: () => new Promise((r) => setImmediate(r)) };
}

function metrics(): Metrics {
  const m = new Metrics({ defaultMetrics: false });
  m.setModels(modelVariants(config.models));
  return m;
}

describe('createTelemetry', () => {
  test('every hook reaches both sinks; the trace sink gives the trace id and the injected context', async () => {
    const tracing = new FakeTracing();
    const m = metrics();
    const { logger, lines, flush } = captureLogger();
    const telemetry = createTelemetry({ metrics: m, logger, accessLog: true, tracing });
    const headers = { traceparent: '00-abc-def-01', authorization: 'Bearer secret' };
    const report: { endpoint?: string; attempts?: number } = {};
    const t = telemetry.request('openai', headers, { requestId: 'req-1', report, operation: 'POST /v1/chat/completions' });
    assert.equal(t.traceId, 'trace-0');
    t.requested('llm');
    t.routed('llm', 'stable');
    const attempt = t.attempt({ cluster: 'dev', endpoint: 'a:1', retry: 0 });
    const injected: Record<string, string> = {};
    attempt.inject((k, v) => (injected[k] = v));
    assert.deepEqual(injected, { traceparent: 'trace-0-attempt-0' });
    attempt.end();
    report.endpoint = 'a:1';
    report.attempts = 1;
    t.firstToken();
    t.token();
    t.usage(3, 2);
    t.end({ status: 200 });
    t.end({ status: 200 });
    assert.deepEqual(tracing.calls, [
      'request openai 00-abc-def-01 POST /v1/chat/completions',
      'routed llm stable',
      'attempt a:1 0',
      'attempt-end ok',
      'firstToken',
      'token',
      'usage 3 2',
      'end 200',
    ]);
    const scrape = new Scrape(await m.scrape());
    assert.equal(scrape.value('switchyard_requests_total', { listener: 'openai', model: 'llm', variant: 'stable', status_class: '2xx' }), 1);
    assert.equal(scrape.value('switchyard_llm_tokens_total', { model: 'llm', kind: 'completion' }), 2);
    await flush();
    assert.equal(lines.length, 1);
    const line = lines[0] as Record<string, unknown>;
    assert.equal(line.level, 30);
    assert.equal(line.event, 'access');
    assert.deepEqual(
      Object.fromEntries(Object.entries(line).filter(([k]) => !['level', 'time', 'pid', 'hostname', 'durationMs'].includes(k))),
      { event: 'access', requestId: 'req-1', traceId: 'trace-0', listener: 'openai', model: 'llm', variant: 'stable', endpoint: 'a:1', attempts: 1, status: 200 },
    );
    assert.equal(typeof line.durationMs, 'number');
    assert.ok(!JSON.stringify(line).includes('secret'), 'no headers in the access log');
  });

  test('without tracing: no trace id, attempts inject nothing, metrics and the log still work', async () => {
    const m = metrics();
    const { logger, lines, flush } = captureLogger();
    const telemetry = createTelemetry({ metrics: m, logger, accessLog: true });
    const t = telemetry.request('kserve-rest', {}, { requestId: 'r' });
    assert.equal(t.traceId, undefined);
    let injected = 0;
    t.attempt({ cluster: 'dev', endpoint: 'a:1', retry: 0 }).inject(() => injected++);
    assert.equal(injected, 0);
    t.requested('nope');
    t.end({ status: 404, error: new SwitchyardError('SWY_ERR_ROUTE_MODEL_NOT_FOUND', 'no') });
    await flush();
    assert.deepEqual(
      { ...lines[0], time: 0, pid: 0, hostname: '', durationMs: 0 },
      { level: 30, time: 0, pid: 0, hostname: '', event: 'access', requestId: 'r', listener: 'kserve-rest', model: 'nope', status: 404, durationMs: 0, code: 'SWY_ERR_ROUTE_MODEL_NOT_FOUND' },
    );
  });

  test('accessLog off: no line; read per request, so a reload can turn it on', async () => {
    const { logger, lines, flush } = captureLogger();
    let on = false;
    const telemetry = createTelemetry({
      metrics: metrics(),
      logger,
      get accessLog() {
        return on;
      },
    });
    telemetry.request('kserve-rest', {}, { requestId: 'a' }).end({ status: 200 });
    on = true;
    telemetry.request('kserve-rest', {}, { requestId: 'b' }).end({ status: 200 });
    await flush();
    assert.deepEqual(lines.map((l) => l.requestId), ['b']);
  });

  test('a client-sent model name is cut in the access log', async () => {
    const { logger, lines, flush } = captureLogger();
    const t = createTelemetry({ metrics: metrics(), logger, accessLog: true }).request('openai', {}, { requestId: 'r' });
    t.requested('m'.repeat(5000));
    t.end({ status: 404 });
    await flush();
    assert.equal(String(lines[0]?.model).length, 128);
  });

  test('a batch is opened with the members\' own trace requests; its time is upstream time for each member', async () => {
    const tracing = new FakeTracing();
    const m = metrics();
    const { logger } = captureLogger('silent');
    const telemetry = createTelemetry({ metrics: m, logger, accessLog: true, tracing });
    const members = [telemetry.request('kserve-rest', {}, { requestId: '1' }), telemetry.request('kserve-grpc', {}, { requestId: '2' })];
    const batch = telemetry.batch('iris', members);
    assert.equal(tracing.batches.length, 1);
    assert.deepEqual(tracing.batches[0]?.members, tracing.requests, 'the trace sink sees its own objects');
    const injected: string[] = [];
    batch.inject((k, v) => injected.push(`${k}=${v}`));
    assert.deepEqual(injected, ['traceparent=batch-context']);
    await new Promise((r) => setTimeout(r, 20));
    batch.end(new Error('upstream'));
    batch.end();
    assert.ok(tracing.batches[0]?.ended instanceof Error, 'ended once, with the error');
    for (const member of members) member.end({ status: 200 });
    // Nearly all of each member's time was the batch's: its overhead is far below its duration.
    const scrape = new Scrape(await m.scrape());
    assert.ok(scrape.sum('switchyard_router_overhead_seconds', { listener: 'kserve-rest' }) < scrape.sum('switchyard_request_duration_seconds', { listener: 'kserve-rest' }) / 2);
  });

  test('NO_TELEMETRY: every hook is a no-op', () => {
    const t = NO_TELEMETRY.request('openai', {});
    t.requested('x');
    t.routed('x', 'y');
    t.attempt({ cluster: 'c', endpoint: 'e', retry: 0 }).end();
    t.firstToken();
    t.token();
    t.usage(1, 1);
    t.end({ status: 200 });
    assert.equal(t.traceId, undefined);
    NO_TELEMETRY.batch('m', [t]).end();
  });
});

describe('trace ids on log lines', () => {
  test('lines written while a traced request is served carry its trace id; others do not', async () => {
    const { logger, lines, raw, flush } = captureLogger();
    await withTraceLogs({ traceId: 'abc123' }, async () => {
      logger.info('inside');
      await new Promise((r) => setTimeout(r, 1));
      logger.warn({ event: 'retry' }, 'after an await');
      logger.info({ traceId: 'explicit' }, 'own trace id kept, not doubled');
    });
    withTraceLogs({ traceId: undefined }, () => logger.info('untraced request'));
    logger.info('outside');
    await flush();
    assert.deepEqual(
      lines.map((l) => [l.msg, l.traceId]),
      [
        ['inside', 'abc123'],
        ['after an await', 'abc123'],
        ['own trace id kept, not doubled', 'explicit'],
        ['untraced request', undefined],
        ['outside', undefined],
      ],
    );
    assert.equal(raw[2]?.split('"traceId"').length, 2, 'one traceId key on the line');
  });
});

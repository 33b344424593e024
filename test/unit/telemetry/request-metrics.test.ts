// One request's metrics on a fake clock: counted once under its labels, in flight while it runs,
// the router's overhead (unary: all but upstream time; streams: before the first result), TTFT and
// inter-token latency for generations, exact usage, rejections by error code, and the status class
// of a stream that failed after its 200.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configSchema } from '../../../router/config/schema.js';
import { SwitchyardError } from '../../../router/core/errors.js';
import { Metrics, modelVariants } from '../../../router/telemetry/metrics.js';
import { effectiveStatus, RequestMetrics } from '../../../router/telemetry/request-metrics.js';
import type { ListenerName } from '../../../router/telemetry/request-telemetry.js';
import { Scrape } from '../../helpers/prometheus-scrape.js';

const config = configSchema.parse({
  clusters: { dev: { backend: 'triton-grpc', endpoints: ['127.0.0.1:1'] } },
  models: { iris: { split: [{ cluster: 'dev' }] }, llm: { split: [{ name: 'stable', cluster: 'dev' }] } },
});

function setup() {
  const metrics = new Metrics({ defaultMetrics: false });
  metrics.setModels(modelVariants(config.models));
  let now = 1000;
  const clock = {
    advance: (ms: number) => {
      now += ms;
    },
  };
  const request = (listener: ListenerName) => new RequestMetrics(metrics, listener, () => now);
  const read = async () => new Scrape(await metrics.scrape());
  return { metrics, clock, request, read };
}

const ATTEMPT = { cluster: 'dev', endpoint: 'a:1', retry: 0 };

describe('RequestMetrics', () => {
  test('a unary request: in flight while it runs, then counted once with its duration and overhead', async () => {
    const { clock, request, read } = setup();
    const r = request('kserve-rest');
    r.requested('iris');
    assert.equal((await read()).value('switchyard_requests_in_flight', { listener: 'kserve-rest' }), 1);
    clock.advance(2); // parsing, routing
    r.routed('iris', 'default');
    const first = r.attempt(ATTEMPT);
    clock.advance(30);
    first.end(new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'down'));
    clock.advance(5); // back-off
    const second = r.attempt({ ...ATTEMPT, retry: 1 });
    clock.advance(40);
    second.end();
    clock.advance(3); // encoding, writing
    r.end({ status: 200 });
    r.end({ status: 500 }); // a second end is ignored
    const scrape = await read();
    const labels = { listener: 'kserve-rest', model: 'iris', variant: 'default', status_class: '2xx' };
    assert.equal(scrape.value('switchyard_requests_total', labels), 1);
    assert.equal(scrape.value('switchyard_requests_total'), 1);
    assert.equal(scrape.count('switchyard_request_duration_seconds', labels), 1);
    assert.equal(scrape.sum('switchyard_request_duration_seconds', labels), 0.08);
    assert.equal(scrape.sum('switchyard_router_overhead_seconds', { listener: 'kserve-rest' }), 0.01);
    assert.equal(scrape.value('switchyard_requests_in_flight', { listener: 'kserve-rest' }), 0);
    assert.equal(r.durationMs, 80);
  });

  test('a request that fails before routing is labelled with the model it asked for, or _unknown', async () => {
    const { request, read } = setup();
    const known = request('kserve-grpc');
    known.requested('iris');
    known.end({ status: 400, error: new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', 'bad') });
    const unknown = request('kserve-grpc');
    unknown.requested('x'.repeat(10_000));
    unknown.end({ status: 404 });
    const scrape = await read();
    assert.equal(scrape.value('switchyard_requests_total', { model: 'iris', variant: '_none', status_class: '4xx' }), 1);
    assert.equal(scrape.value('switchyard_requests_total', { model: '_unknown', variant: '_none', status_class: '4xx' }), 1);
  });

  test('a stream: TTFT from arrival, ITL between deltas, exact usage, active while streaming, overhead before the first result', async () => {
    const { clock, request, read } = setup();
    const r = request('openai');
    r.requested('llm');
    clock.advance(4); // parsing, template
    r.routed('llm', 'stable');
    const attempt = r.attempt(ATTEMPT);
    clock.advance(50); // upstream prefill until its first result
    attempt.end();
    clock.advance(1);
    r.firstToken();
    let scrape = await read();
    assert.equal(scrape.value('switchyard_llm_streams_active', { model: 'llm' }), 1);
    for (const gap of [20, 30, 10]) {
      clock.advance(gap);
      r.token();
    }
    r.usage(18, 4);
    clock.advance(7);
    r.end({ status: 200 });
    scrape = await read();
    assert.equal(scrape.count('switchyard_llm_time_to_first_token_seconds', { model: 'llm' }), 1);
    assert.equal(scrape.sum('switchyard_llm_time_to_first_token_seconds', { model: 'llm' }), 0.055);
    assert.equal(scrape.count('switchyard_llm_inter_token_latency_seconds', { model: 'llm' }), 3);
    assert.ok(Math.abs(scrape.sum('switchyard_llm_inter_token_latency_seconds', { model: 'llm' }) - 0.06) < 1e-9);
    assert.equal(scrape.value('switchyard_llm_tokens_total', { model: 'llm', kind: 'prompt' }), 18);
    assert.equal(scrape.value('switchyard_llm_tokens_total', { model: 'llm', kind: 'completion' }), 4);
    assert.equal(scrape.value('switchyard_llm_streams_active', { model: 'llm' }), 0);
    // 4 ms before the upstream: what follows the first result is streaming, not overhead.
    assert.equal(scrape.sum('switchyard_router_overhead_seconds', { listener: 'openai' }), 0.004);
    assert.equal(scrape.sum('switchyard_request_duration_seconds', { listener: 'openai' }), 0.122);
  });

  test('a relayed stream: the wait from the upstream\'s headers to its first byte is the upstream\'s', async () => {
    const { clock, request, read } = setup();
    const r = request('openai');
    r.routed('llm', 'stable');
    clock.advance(3);
    const attempt = r.attempt(ATTEMPT);
    clock.advance(2); // headers
    attempt.end();
    clock.advance(40); // prefill, then the first chunk
    r.firstToken();
    clock.advance(100);
    r.end({ status: 200 });
    const scrape = await read();
    assert.equal(scrape.sum('switchyard_router_overhead_seconds', { listener: 'openai' }), 0.003);
    assert.equal(scrape.sum('switchyard_llm_time_to_first_token_seconds'), 0.045);
    assert.equal(scrape.count('switchyard_llm_inter_token_latency_seconds'), 0, 'relayed bytes are not parsed into tokens');
  });

  test('V2 streams (kserve-grpc) are not LLM series: their first response only bounds the overhead', async () => {
    const { request, read } = setup();
    const r = request('kserve-grpc');
    r.routed('llm', 'stable');
    r.firstToken();
    r.token();
    r.end({ status: 200 });
    const scrape = await read();
    assert.equal(scrape.count('switchyard_llm_time_to_first_token_seconds'), 0);
    assert.equal(scrape.count('switchyard_llm_inter_token_latency_seconds'), 0);
    assert.equal(scrape.value('switchyard_requests_total', { listener: 'kserve-grpc', model: 'llm' }), 1);
  });

  test('a merged batch\'s time counts as upstream time for each member', async () => {
    const { clock, request, read } = setup();
    const r = request('kserve-rest');
    r.routed('iris', 'default');
    clock.advance(6); // queue delay
    clock.advance(20);
    r.addUpstreamMs(20);
    r.end({ status: 200 });
    assert.equal((await read()).sum('switchyard_router_overhead_seconds', { listener: 'kserve-rest' }), 0.006);
  });

  test('admission overload and a full batch queue count as rejections; other errors do not', async () => {
    const { request, read } = setup();
    for (const [code, status] of [
      ['SWY_ERR_ADMIT_OVERLOADED', 503],
      ['SWY_ERR_BATCH_QUEUE_FULL', 429],
      ['SWY_ERR_BATCH_QUEUE_FULL', 429],
      ['SWY_ERR_CLUSTER_OVERLOADED', 503],
      ['SWY_ERR_UPSTREAM_UNAVAILABLE', 503],
    ] as const) {
      request('kserve-rest').end({ status, error: new SwitchyardError(code, 'x') });
    }
    const scrape = await read();
    assert.equal(scrape.value('switchyard_rejected_requests_total', { reason: 'overloaded' }), 1);
    assert.equal(scrape.value('switchyard_rejected_requests_total', { reason: 'batch_queue_full' }), 2);
    assert.equal(scrape.value('switchyard_rejected_requests_total', { reason: 'rate_limited' }), 0);
    assert.equal(scrape.value('switchyard_requests_total', { status_class: '5xx' }), 3);
    assert.equal(scrape.value('switchyard_requests_total', { status_class: '4xx' }), 2);
  });

  test('a stream that failed after its 200 counts under its error; a client that left under 499', () => {
    const broke = new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'gone');
    assert.equal(effectiveStatus({ status: 200, error: broke }), 503);
    assert.equal(effectiveStatus({ status: 200, error: new Error('bug') }), 500);
    assert.equal(effectiveStatus({ status: 200 }), 200);
    assert.equal(effectiveStatus({ status: 499 }), 499);
    assert.equal(effectiveStatus({ status: 413, error: new SwitchyardError('SWY_ERR_INPUT_BODY_TOO_LARGE', 'big') }), 413);
  });

  test('hooks after the end change nothing', async () => {
    const { clock, request, read } = setup();
    const r = request('openai');
    r.routed('llm', 'stable');
    const attempt = r.attempt(ATTEMPT);
    r.end({ status: 499 });
    clock.advance(10);
    attempt.end();
    r.firstToken();
    r.token();
    const scrape = await read();
    assert.equal(scrape.count('switchyard_llm_time_to_first_token_seconds'), 0);
    assert.equal(scrape.value('switchyard_llm_streams_active', { model: 'llm' }), 0);
    assert.equal(scrape.value('switchyard_requests_in_flight', { listener: 'openai' }), 0);
  });
});

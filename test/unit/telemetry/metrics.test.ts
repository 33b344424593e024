// The metric catalogue: every name and type the monitoring rules are written against, one registry
// per app, label bounding (configured models and variants only), the fixed series that exist at 0
// from the start, the endpoint gauges read at scrape time, and config_info keeping one series.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configSchema } from '../../../router/config/schema.js';
import { Metrics, modelVariants, NO_VARIANT, statusClass, UNKNOWN_MODEL, UNKNOWN_VARIANT } from '../../../router/telemetry/metrics.js';
import { Scrape } from '../../helpers/prometheus-scrape.js';

/** The contract with deploy/monitoring: name → type. */
const CATALOGUE: Readonly<Record<string, string>> = {
  switchyard_requests_total: 'counter',
  switchyard_request_duration_seconds: 'histogram',
  switchyard_requests_in_flight: 'gauge',
  switchyard_router_overhead_seconds: 'histogram',
  switchyard_upstream_attempt_duration_seconds: 'histogram',
  switchyard_upstream_errors_total: 'counter',
  switchyard_retries_total: 'counter',
  switchyard_retries_denied_total: 'counter',
  switchyard_endpoint_ejections_total: 'counter',
  switchyard_circuit_open_rejections_total: 'counter',
  switchyard_rejected_requests_total: 'counter',
  switchyard_endpoint_healthy: 'gauge',
  switchyard_endpoint_ejected: 'gauge',
  switchyard_endpoint_requests_in_flight: 'gauge',
  switchyard_llm_time_to_first_token_seconds: 'histogram',
  switchyard_llm_inter_token_latency_seconds: 'histogram',
  switchyard_llm_tokens_total: 'counter',
  switchyard_llm_streams_active: 'gauge',
  switchyard_batch_size: 'histogram',
  switchyard_batch_queue_delay_seconds: 'histogram',
  switchyard_batch_queue_depth: 'gauge',
  switchyard_batch_expired_total: 'counter',
  switchyard_mirror_comparisons_total: 'counter',
  switchyard_config_reloads_total: 'counter',
  switchyard_config_info: 'gauge',
  switchyard_tenant_requests_total: 'counter',
  switchyard_tenant_tokens_total: 'counter',
  switchyard_tenant_cost_total: 'counter',
  switchyard_state_store_up: 'gauge',
  switchyard_state_fallback_total: 'counter',
};

const config = configSchema.parse({
  clusters: { dev: { backend: 'triton-grpc', endpoints: ['127.0.0.1:1'] } },
  models: {
    iris: { split: [{ cluster: 'dev' }] },
    llm: { split: [{ name: 'stable', cluster: 'dev', weight: 9 }, { name: 'canary', cluster: 'dev' }] },
  },
});

function metrics(): Metrics {
  const m = new Metrics({ defaultMetrics: false });
  m.setModels(modelVariants(config.models));
  return m;
}

async function read(m: Metrics): Promise<Scrape> {
  return new Scrape(await m.scrape());
}

describe('Metrics', () => {
  test('defines exactly the catalogue, every name prefixed switchyard_, with its type', async () => {
    const scrape = await read(metrics());
    const own = [...scrape.types].filter(([name]) => name.startsWith('switchyard_'));
    assert.deepEqual(Object.fromEntries(own), CATALOGUE);
    assert.equal([...scrape.types.keys()].filter((n) => !n.startsWith('switchyard_')).length, 0, 'no default metrics when turned off');
  });

  test('Node process metrics come with the standard names, in this registry only', async () => {
    const m = new Metrics();
    const scrape = await read(m);
    assert.ok(scrape.types.has('process_cpu_user_seconds_total'));
    assert.ok(scrape.types.has('nodejs_eventloop_lag_seconds'));
    assert.equal(m.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  });

  test('each app has its own registry: counts in one never show in another', async () => {
    const a = metrics();
    const b = metrics();
    a.requestSeries('kserve-rest', 'iris', 'default', '2xx').total.inc();
    assert.equal((await read(a)).value('switchyard_requests_total'), 1);
    assert.equal((await read(b)).value('switchyard_requests_total'), 0);
  });

  test('model labels are configured models or _unknown; variants the model\'s own, _none or _unknown', () => {
    const m = metrics();
    assert.equal(m.modelLabel('iris'), 'iris');
    assert.equal(m.modelLabel('no-such-model'), UNKNOWN_MODEL);
    assert.equal(m.modelLabel(undefined), UNKNOWN_MODEL);
    assert.equal(m.variantLabel('llm', 'canary'), 'canary');
    assert.equal(m.variantLabel('iris', 'default'), 'default');
    assert.equal(m.variantLabel('iris', 'canary'), UNKNOWN_VARIANT, "another model's variant");
    assert.equal(m.variantLabel('iris', undefined), NO_VARIANT);
    assert.equal(m.variantLabel(UNKNOWN_MODEL, 'x'), UNKNOWN_VARIANT);
    // A reload that removes a model: its label goes too.
    m.setModels(modelVariants(configSchema.parse({ clusters: config.clusters, models: { iris: config.models.iris } }).models));
    assert.equal(m.modelLabel('llm'), UNKNOWN_MODEL);
  });

  test('a thousand client-chosen model names make one series', async () => {
    const m = metrics();
    for (let i = 0; i < 1000; i++) m.requestSeries('openai', m.modelLabel(`model-${i}`), NO_VARIANT, '4xx').total.inc();
    const scrape = await read(m);
    assert.equal(scrape.select('switchyard_requests_total').length, 1);
    assert.equal(scrape.value('switchyard_requests_total', { model: UNKNOWN_MODEL, variant: NO_VARIANT, status_class: '4xx' }), 1000);
  });

  test('label children are created once and reused', () => {
    const m = metrics();
    assert.equal(m.requestSeries('openai', 'llm', 'stable', '2xx'), m.requestSeries('openai', 'llm', 'stable', '2xx'));
    assert.equal(m.llm('llm'), m.llm('llm'));
    assert.equal(m.cluster('dev'), m.cluster('dev'));
  });

  test('fixed label sets exist at 0 from the start', async () => {
    const m = metrics();
    m.cluster('dev');
    const scrape = await read(m);
    for (const reason of ['overloaded', 'batch_queue_full', 'rate_limited']) {
      assert.equal(scrape.select('switchyard_rejected_requests_total', { reason }).length, 1, reason);
    }
    assert.deepEqual(scrape.labelValues('switchyard_config_reloads_total', 'result').sort(), ['applied', 'rejected']);
    assert.deepEqual(scrape.labelValues('switchyard_requests_in_flight', 'listener').sort(), ['kserve-grpc', 'kserve-rest', 'openai']);
    for (const name of ['switchyard_retries_total', 'switchyard_retries_denied_total', 'switchyard_circuit_open_rejections_total']) {
      assert.equal(scrape.value(name, { cluster: 'dev' }), 0);
      assert.equal(scrape.select(name, { cluster: 'dev' }).length, 1, name);
    }
  });

  test('histogram buckets: requests to 300 s, overhead from 50 µs, batch sizes in powers of two', async () => {
    const m = metrics();
    m.requestSeries('kserve-rest', 'iris', 'default', '2xx').duration.observe(0.2);
    m.overhead('kserve-rest').observe(0.00004);
    const observer = m.batchObserver('iris');
    observer.batchSent(3, 5, 0.1);
    const scrape = await read(m);
    const les = (name: string) => scrape.select(`${name}_bucket`).map((s) => s.labels.le);
    assert.equal(les('switchyard_request_duration_seconds')[0], '0.001');
    assert.ok(les('switchyard_request_duration_seconds').includes('300'));
    assert.equal(les('switchyard_router_overhead_seconds')[0], '0.00005');
    assert.equal(scrape.value('switchyard_router_overhead_seconds_bucket', { le: '0.00005' }), 1);
    assert.deepEqual(les('switchyard_batch_size'), ['1', '2', '4', '8', '16', '32', '64', '128', '256', '+Inf']);
    // Batch size counts rows (Triton's batch size), the queue delay is in seconds.
    assert.equal(scrape.sum('switchyard_batch_size', { model: 'iris' }), 5);
    assert.equal(scrape.sum('switchyard_batch_queue_delay_seconds', { model: 'iris' }), 0.0001);
  });

  test('cluster telemetry: attempts by outcome, errors by canonical code, retries, denials, ejections, breaker', async () => {
    const m = metrics();
    const dev = m.cluster('dev');
    dev.attempt('10.0.0.1:8001', 0.01, undefined);
    dev.attempt('10.0.0.2:8001', 0.02, 'UNAVAILABLE');
    dev.attempt('10.0.0.2:8001', 0.03, 'UNAVAILABLE');
    dev.attempt('10.0.0.2:8001', 0.04, 'DEADLINE_EXCEEDED');
    dev.retry();
    dev.retryDenied();
    dev.ejected('10.0.0.2:8001');
    dev.overloaded();
    const scrape = await read(m);
    assert.equal(scrape.count('switchyard_upstream_attempt_duration_seconds', { endpoint: '10.0.0.1:8001', outcome: 'ok' }), 1);
    assert.equal(scrape.count('switchyard_upstream_attempt_duration_seconds', { endpoint: '10.0.0.2:8001', outcome: 'error' }), 3);
    assert.equal(scrape.value('switchyard_upstream_errors_total', { cluster: 'dev', endpoint: '10.0.0.2:8001', code: 'UNAVAILABLE' }), 2);
    assert.equal(scrape.value('switchyard_upstream_errors_total', { code: 'DEADLINE_EXCEEDED' }), 1);
    assert.equal(scrape.value('switchyard_retries_total', { cluster: 'dev' }), 1);
    assert.equal(scrape.value('switchyard_retries_denied_total', { cluster: 'dev' }), 1);
    assert.equal(scrape.value('switchyard_endpoint_ejections_total', { cluster: 'dev', endpoint: '10.0.0.2:8001' }), 1);
    assert.equal(scrape.value('switchyard_circuit_open_rejections_total', { cluster: 'dev' }), 1);
  });

  test('endpoint gauges are read from the fleet at scrape time; gone endpoints disappear', async () => {
    const m = metrics();
    let states: Record<string, Record<string, { inFlight: number; healthy: boolean; ejected: boolean }>> = {
      dev: { 'a:1': { inFlight: 3, healthy: true, ejected: false }, 'b:1': { inFlight: 0, healthy: false, ejected: true } },
    };
    m.setEndpointStates(() => states);
    let scrape = await read(m);
    assert.equal(scrape.value('switchyard_endpoint_healthy', { cluster: 'dev', endpoint: 'a:1' }), 1);
    assert.equal(scrape.value('switchyard_endpoint_healthy', { cluster: 'dev', endpoint: 'b:1' }), 0);
    assert.equal(scrape.value('switchyard_endpoint_ejected', { cluster: 'dev', endpoint: 'b:1' }), 1);
    assert.equal(scrape.value('switchyard_endpoint_requests_in_flight', { cluster: 'dev', endpoint: 'a:1' }), 3);
    states = { dev: { 'a:1': { inFlight: 0, healthy: true, ejected: false } } };
    scrape = await read(m);
    assert.deepEqual(scrape.labelValues('switchyard_endpoint_healthy', 'endpoint'), ['a:1']);
    assert.deepEqual(scrape.labelValues('switchyard_endpoint_ejected', 'endpoint'), ['a:1']);
    assert.deepEqual(scrape.labelValues('switchyard_endpoint_requests_in_flight', 'endpoint'), ['a:1']);
  });

  test('batch queue depth adds up over a model\'s batchers; expired counts', async () => {
    const m = metrics();
    const first = m.batchObserver('iris');
    const second = m.batchObserver('iris');
    first.queueDepth(3);
    second.queueDepth(2);
    first.queueDepth(1);
    first.expired();
    let scrape = await read(m);
    assert.equal(scrape.value('switchyard_batch_queue_depth', { model: 'iris' }), 3);
    assert.equal(scrape.value('switchyard_batch_expired_total', { model: 'iris' }), 1);
    first.queueDepth(0);
    second.queueDepth(0);
    scrape = await read(m);
    assert.equal(scrape.value('switchyard_batch_queue_depth', { model: 'iris' }), 0);
  });

  test('mirror comparisons by model and result', async () => {
    const m = metrics();
    m.mirrorCompared('iris', 'match');
    m.mirrorCompared('iris', 'match');
    m.mirrorCompared('iris', 'error');
    m.mirrorCompared('gone', 'mismatch');
    const scrape = await read(m);
    assert.equal(scrape.value('switchyard_mirror_comparisons_total', { model: 'iris', result: 'match' }), 2);
    assert.equal(scrape.value('switchyard_mirror_comparisons_total', { model: 'iris', result: 'error' }), 1);
    assert.equal(scrape.value('switchyard_mirror_comparisons_total', { model: UNKNOWN_MODEL, result: 'mismatch' }), 1);
  });

  test('config_info holds exactly one series, the running config; reloads count by result', async () => {
    const m = metrics();
    m.setConfigHash('aaaaaaaaaaaa');
    m.setConfigHash('bbbbbbbbbbbb');
    m.configReloaded('applied');
    m.configReloaded('rejected');
    m.configReloaded('rejected');
    const scrape = await read(m);
    assert.deepEqual(scrape.select('switchyard_config_info').map((s) => [s.labels.hash, s.value]), [['bbbbbbbbbbbb', 1]]);
    assert.equal(scrape.value('switchyard_config_reloads_total', { result: 'applied' }), 1);
    assert.equal(scrape.value('switchyard_config_reloads_total', { result: 'rejected' }), 2);
  });

  test('status classes', () => {
    assert.deepEqual([200, 299, 399, 400, 404, 429, 499, 500, 503, 504].map(statusClass), ['2xx', '2xx', '2xx', '4xx', '4xx', '4xx', '4xx', '5xx', '5xx', '5xx']);
  });
});

describe('the test scrape parser', () => {
  test('reads labels with escapes, special values, and ignores comments', () => {
    const scrape = new Scrape(['# HELP x a "help"', '# TYPE x counter', 'x{a="q\\"uote",b="back\\\\slash",c="new\\nline"} 3', 'y +Inf', 'z NaN 1700000000000', ''].join('\n'));
    assert.deepEqual(scrape.select('x')[0]?.labels, { a: 'q"uote', b: 'back\\slash', c: 'new\nline' });
    assert.equal(scrape.value('x'), 3);
    assert.equal(scrape.value('y'), Infinity);
    assert.ok(Number.isNaN(scrape.value('z')));
    assert.equal(scrape.types.get('x'), 'counter');
  });
});

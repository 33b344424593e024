// Prometheus metrics and the access log of a real router process in front of real dev runtimes:
// known traffic is driven, the admin /metrics is scraped before and after, and exact deltas are
// asserted — request counts and histogram counts, attempts, retries and upstream errors with one
// replica down, TTFT/ITL/tokens of a stream against its own usage, batch sizes against the
// runtime's own executions, mirror comparisons, a full batch queue, reloads and the config hash.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jsonToRaw } from '../../router/adapters/kserve-tensor/index.js';
import { loadConfigFile } from '../../router/config/load-config.js';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';
import { configHash } from '../../router/telemetry/config-hash.js';
import { inferenceClient, modelInfer, spawnDevRuntime, waitFor, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';
import { postJson, request } from '../helpers/http.js';
import { llmRequest, runStream } from '../helpers/llm-stream.js';
import { delta, scrape, Scrape } from '../helpers/prometheus-scrape.js';
import { closedPort } from '../helpers/closed-port.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';

const IRIS = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [[5.1, 3.5, 1.4, 0.2]] }] };

const irisGrpc = (model: string): ModelInferRequest => ({
  model_name: model,
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }],
  raw_input_contents: [jsonToRaw('input', 'FP32', [1, 4], [6.3, 3.3, 6.0, 2.5])],
});

function routerConfig(rt: SpawnedDevRuntime, batchRt: SpawnedDevRuntime, dead: string, extraModels: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    limits: { maxBodyBytes: 64 * 1024 },
    clusters: {
      dev: { backend: 'triton-grpc', endpoints: [rt.grpcTarget] },
      // One live replica and one that refuses connections; health checks too slow to notice it, so
      // only retries and outlier detection (two consecutive failures) keep requests off it.
      pair: {
        backend: 'triton-grpc',
        endpoints: [rt.grpcTarget, dead],
        picker: { type: 'round-robin' },
        healthCheck: { intervalMs: 600_000, unhealthyThreshold: 5 },
        outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 600_000 },
      },
      // Health checks that notice at once.
      down: { backend: 'triton-grpc', endpoints: [dead], healthCheck: { intervalMs: 100, timeoutMs: 100, unhealthyThreshold: 1 } },
      batch: { backend: 'triton-grpc', endpoints: [batchRt.grpcTarget] },
    },
    models: {
      iris: { split: [{ cluster: 'dev' }] },
      'iris-pair': { split: [{ cluster: 'pair', upstreamModel: 'iris' }], retry: { maxRetries: 1, backoffBaseMs: 0, backoffMaxMs: 0 } },
      'iris-batched': { split: [{ cluster: 'batch', upstreamModel: 'iris' }], batching: { maxBatchSize: 8, maxQueueDelayUs: 20_000 } },
      'iris-small-queue': { split: [{ cluster: 'dev', upstreamModel: 'iris' }], batching: { maxBatchSize: 8, maxQueueDelayUs: 500_000, maxQueueSize: 1 } },
      'iris-mirrored': { split: [{ cluster: 'dev', upstreamModel: 'iris' }], mirror: { to: { cluster: 'dev', upstreamModel: 'iris' }, percent: 100 } },
      'tiny-llm': { split: [{ cluster: 'dev' }], llm: { profile: 'vllm-backend', defaultMaxTokens: 64 } },
      ...extraModels,
    },
  };
}

describe('metrics and the access log of a running router', () => {
  let rt: SpawnedDevRuntime;
  let batchRt: SpawnedDevRuntime;
  let router: RunningRouter;
  let client: GRPCInferenceServiceClient;
  let dead: string;

  before(async () => {
    [rt, batchRt] = await Promise.all([spawnDevRuntime(), spawnDevRuntime(['--models', 'iris', '--latency-a-ms', '20'])]);
    dead = `127.0.0.1:${await closedPort()}`;
    router = await startRouter(routerConfig(rt, batchRt, dead));
    client = inferenceClient(router.grpcTarget);
  });

  after(async () => {
    client?.close();
    await router?.stop();
    await Promise.all([rt?.stop(), batchRt?.stop()]);
  });

  test('/metrics is on the admin port only, in the Prometheus text format', async () => {
    const admin = await fetch(`${router.adminUrl}/metrics`);
    assert.equal(admin.status, 200);
    assert.equal(admin.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await admin.text();
    assert.match(text, /^# HELP switchyard_requests_total /m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    const client = await request(`${router.url}/metrics`);
    assert.equal(client.status, 404);
  });

  test('N unary infers over REST and gRPC: requests, durations and attempts grow by exactly N', async () => {
    const before = await scrape(router.adminUrl);
    const n = 5;
    for (let i = 0; i < n; i++) assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, IRIS)).status, 200);
    for (let i = 0; i < n; i++) await modelInfer(client, irisGrpc('iris'));
    const after = await scrape(router.adminUrl);
    const rest = { listener: 'kserve-rest', model: 'iris', variant: 'default', status_class: '2xx' };
    const grpc = { ...rest, listener: 'kserve-grpc' };
    assert.equal(delta(before, after, 'switchyard_requests_total', rest), n);
    assert.equal(delta(before, after, 'switchyard_requests_total', grpc), n);
    assert.equal(delta(before, after, 'switchyard_request_duration_seconds_count', rest), n);
    assert.equal(delta(before, after, 'switchyard_request_duration_seconds_count', grpc), n);
    assert.equal(delta(before, after, 'switchyard_router_overhead_seconds_count', { listener: 'kserve-rest' }), n);
    assert.equal(delta(before, after, 'switchyard_upstream_attempt_duration_seconds_count', { cluster: 'dev', endpoint: rt.grpcTarget, outcome: 'ok' }), 2 * n);
    assert.equal(delta(before, after, 'switchyard_upstream_errors_total'), 0);
    assert.equal(after.value('switchyard_requests_in_flight', { listener: 'kserve-rest' }), 0);
    // Overhead is a part of each request's duration.
    assert.ok(delta(before, after, 'switchyard_router_overhead_seconds_sum', { listener: 'kserve-rest' }) < delta(before, after, 'switchyard_request_duration_seconds_sum', rest));
  });

  test('errors count under their status class; a model nobody configured is _unknown', async () => {
    const before = await scrape(router.adminUrl);
    assert.equal((await postJson(`${router.url}/v2/models/no-such-model/infer`, IRIS)).status, 404);
    // Data that does not fit its shape: refused by the router before routing.
    assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1] }] })).status, 400);
    // Refused while the body is read (limits.maxBodyBytes), before the handler: counted all the same.
    assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, { pad: 'x'.repeat(100 * 1024) })).status, 413);
    const after = await scrape(router.adminUrl);
    assert.equal(delta(before, after, 'switchyard_requests_total', { listener: 'kserve-rest', model: '_unknown', variant: '_none', status_class: '4xx' }), 1);
    assert.equal(delta(before, after, 'switchyard_requests_total', { listener: 'kserve-rest', model: 'iris', variant: '_none', status_class: '4xx' }), 2);
    assert.ok(!after.labelValues('switchyard_requests_total', 'model').includes('no-such-model'));
  });

  test('a stream of known length: one TTFT, ITL between its deltas, tokens exactly its usage', async () => {
    const before = await scrape(router.adminUrl);
    const res = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'metrics-stream-1' },
      body: JSON.stringify({ model: 'tiny-llm', messages: [{ role: 'user', content: 'count the tokens' }], stream: true, max_tokens: 7, seed: 11, stream_options: { include_usage: true } }),
    });
    assert.equal(res.status, 200);
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice('data: '.length)) as { choices: { delta?: { content?: string } }[]; usage?: { prompt_tokens: number; completion_tokens: number } | null });
    const deltas = events.filter((e) => (e.choices[0]?.delta?.content ?? '') !== '').length;
    const usage = events.find((e) => e.usage != null)?.usage;
    assert.ok(usage !== undefined && usage !== null);
    assert.equal(usage.completion_tokens, 7);
    assert.ok(deltas >= 2);
    // The access log line is written when the response closes, a moment after the client read it.
    await waitFor(() => router.output.some((l) => l.includes('"requestId":"metrics-stream-1"')), 5000, 'the access log line');
    const after = await scrape(router.adminUrl);
    const model = { model: 'tiny-llm' };
    assert.equal(delta(before, after, 'switchyard_llm_time_to_first_token_seconds_count', model), 1);
    assert.equal(delta(before, after, 'switchyard_llm_inter_token_latency_seconds_count', model), deltas - 1);
    assert.equal(delta(before, after, 'switchyard_llm_tokens_total', { ...model, kind: 'prompt' }), usage.prompt_tokens);
    assert.equal(delta(before, after, 'switchyard_llm_tokens_total', { ...model, kind: 'completion' }), usage.completion_tokens);
    assert.equal(after.value('switchyard_llm_streams_active', model), 0);
    assert.equal(delta(before, after, 'switchyard_requests_total', { listener: 'openai', model: 'tiny-llm', variant: 'default', status_class: '2xx' }), 1);
    // TTFT is part of the duration; the overhead stops at the upstream's first result.
    assert.ok(delta(before, after, 'switchyard_llm_time_to_first_token_seconds_sum', model) < delta(before, after, 'switchyard_request_duration_seconds_sum', { listener: 'openai' }));

    const line = JSON.parse(router.output.find((l) => l.includes('"requestId":"metrics-stream-1"')) as string) as Record<string, unknown>;
    assert.deepEqual(
      { event: line.event, level: line.level, listener: line.listener, model: line.model, variant: line.variant, endpoint: line.endpoint, attempts: line.attempts, status: line.status },
      { event: 'access', level: 30, listener: 'openai', model: 'tiny-llm', variant: 'default', endpoint: rt.grpcTarget, attempts: 1, status: 200 },
    );
    assert.equal(typeof line.durationMs, 'number');
    assert.ok(!JSON.stringify(line).includes('count the tokens'), 'no prompt in the access log');
  });

  test('a client that leaves mid-stream: counted once as 499, the stream no longer active', async () => {
    const before = await scrape(router.adminUrl);
    const controller = new AbortController();
    const res = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'metrics-abort-1' },
      body: JSON.stringify({ model: 'tiny-llm', messages: [{ role: 'user', content: 'a long answer' }], stream: true, max_tokens: 200 }),
      signal: controller.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('"content":"')) text += new TextDecoder().decode((await reader.read()).value);
    const during = await scrape(router.adminUrl);
    assert.equal(during.value('switchyard_llm_streams_active', { model: 'tiny-llm' }), 1);
    // The router's per-replica load, the autoscaling signal docs/capacity.md compares.
    assert.equal(during.value('switchyard_endpoint_requests_in_flight', { cluster: 'dev', endpoint: rt.grpcTarget }), 1);
    controller.abort();
    await waitFor(async () => (await scrape(router.adminUrl)).value('switchyard_requests_in_flight', { listener: 'openai' }) === 0, 5000, 'the stream to end');
    const after = await scrape(router.adminUrl);
    assert.equal(after.value('switchyard_endpoint_requests_in_flight', { cluster: 'dev', endpoint: rt.grpcTarget }), 0);
    assert.equal(delta(before, after, 'switchyard_requests_total', { listener: 'openai', model: 'tiny-llm', variant: 'default', status_class: '4xx' }), 1);
    assert.equal(delta(before, after, 'switchyard_requests_total', { listener: 'openai' }), 1);
    assert.equal(after.value('switchyard_llm_streams_active', { model: 'tiny-llm' }), 0);
    assert.equal(delta(before, after, 'switchyard_llm_tokens_total'), 0, 'no usage: the generation never finished');
    await waitFor(() => router.output.some((l) => l.includes('"requestId":"metrics-abort-1"') && l.includes('"event":"access"')), 5000, 'the access log line');
    const line = JSON.parse(router.output.find((l) => l.includes('"requestId":"metrics-abort-1"') && l.includes('"event":"access"')) as string) as { status: number };
    assert.equal(line.status, 499);
  });

  test('a V2 stream over gRPC counts as a kserve-grpc request, not as an LLM stream', async () => {
    const before = await scrape(router.adminUrl);
    const result = await runStream(client, [llmRequest('s1', 'hello there', { stream: true, sampling: { max_tokens: 4, seed: 3 } })]);
    assert.equal(result.error, undefined);
    await waitFor(async () => delta(before, await scrape(router.adminUrl), 'switchyard_requests_total', { listener: 'kserve-grpc', model: 'tiny-llm' }) === 1, 5000, 'the stream request counted');
    const after = await scrape(router.adminUrl);
    assert.equal(delta(before, after, 'switchyard_requests_total', { listener: 'kserve-grpc', model: 'tiny-llm', variant: 'default', status_class: '2xx' }), 1);
    assert.equal(delta(before, after, 'switchyard_llm_time_to_first_token_seconds_count'), 0);
  });

  test('one replica down: each failed attempt is an upstream error and a retry; two in a row eject it', async () => {
    const before = await scrape(router.adminUrl);
    const n = 6;
    for (let i = 0; i < n; i++) {
      const res = await postJson(`${router.url}/v2/models/iris-pair/infer`, IRIS, { 'x-request-id': `pair-${i}` });
      assert.equal(res.status, 200, res.text);
    }
    const after = await scrape(router.adminUrl);
    const errors = delta(before, after, 'switchyard_upstream_errors_total', { cluster: 'pair', endpoint: dead, code: 'UNAVAILABLE' });
    // Round-robin tries the dead replica first on every other pick until two consecutive failures eject it.
    assert.equal(errors, 2);
    assert.equal(delta(before, after, 'switchyard_upstream_errors_total', { cluster: 'pair' }), errors);
    assert.equal(delta(before, after, 'switchyard_retries_total', { cluster: 'pair' }), errors);
    assert.equal(delta(before, after, 'switchyard_retries_denied_total', { cluster: 'pair' }), 0);
    assert.equal(delta(before, after, 'switchyard_upstream_attempt_duration_seconds_count', { cluster: 'pair', endpoint: dead, outcome: 'error' }), errors);
    assert.equal(delta(before, after, 'switchyard_upstream_attempt_duration_seconds_count', { cluster: 'pair', endpoint: rt.grpcTarget, outcome: 'ok' }), n);
    assert.equal(delta(before, after, 'switchyard_endpoint_ejections_total', { cluster: 'pair', endpoint: dead }), 1);
    assert.equal(after.value('switchyard_endpoint_ejected', { cluster: 'pair', endpoint: dead }), 1);
    assert.equal(after.value('switchyard_endpoint_ejected', { cluster: 'pair', endpoint: rt.grpcTarget }), 0);
    assert.equal(delta(before, after, 'switchyard_requests_total', { listener: 'kserve-rest', model: 'iris-pair', status_class: '2xx' }), n);
    // The access log tells which requests needed a second attempt.
    const retried = router.output
      .filter((l) => l.includes('"event":"access"') && l.includes('"requestId":"pair-'))
      .map((l) => JSON.parse(l) as { attempts: number; endpoint: string });
    assert.equal(retried.filter((l) => l.attempts === 2).length, errors);
    assert.ok(retried.every((l) => l.endpoint === rt.grpcTarget));
  });

  test('health checks that fail show as endpoint_healthy 0', async () => {
    await waitFor(async () => (await scrape(router.adminUrl)).value('switchyard_endpoint_healthy', { cluster: 'down', endpoint: dead }) === 0 && true, 5000, 'the dead endpoint unhealthy');
    const now = await scrape(router.adminUrl);
    assert.equal(now.select('switchyard_endpoint_healthy', { cluster: 'down', endpoint: dead }).length, 1);
    assert.equal(now.value('switchyard_endpoint_healthy', { cluster: 'dev', endpoint: rt.grpcTarget }), 1);
  });

  test('a batched model under concurrency: batch sizes add up to the runtime\'s own executions and inferences', async () => {
    const runtimeBefore = new Scrape(await (await fetch(`${batchRt.httpUrl}/metrics`)).text());
    const before = await scrape(router.adminUrl);
    const n = 24;
    const answers = await Promise.all(Array.from({ length: n }, () => postJson(`${router.url}/v2/models/iris-batched/infer`, IRIS)));
    assert.ok(answers.every((a) => a.status === 200));
    const runtimeAfter = new Scrape(await (await fetch(`${batchRt.httpUrl}/metrics`)).text());
    const after = await scrape(router.adminUrl);
    const executions = delta(runtimeBefore, runtimeAfter, 'nv_inference_exec_count', { model: 'iris' });
    const inferences = delta(runtimeBefore, runtimeAfter, 'nv_inference_count', { model: 'iris' });
    const model = { model: 'iris-batched' };
    assert.equal(inferences, n);
    assert.ok(executions < n, `requests were merged (${executions} executions for ${n} requests)`);
    assert.equal(delta(before, after, 'switchyard_batch_size_count', model), executions);
    assert.equal(delta(before, after, 'switchyard_batch_size_sum', model), inferences);
    assert.equal(delta(before, after, 'switchyard_batch_queue_delay_seconds_count', model), executions);
    assert.equal(after.value('switchyard_batch_queue_depth', model), 0);
    assert.equal(delta(before, after, 'switchyard_upstream_attempt_duration_seconds_count', { cluster: 'batch', outcome: 'ok' }), executions);
    assert.equal(delta(before, after, 'switchyard_requests_total', { listener: 'kserve-rest', model: 'iris-batched', status_class: '2xx' }), n);
  });

  test('a full batch queue: the refused requests count as batch_queue_full rejections', async () => {
    const before = await scrape(router.adminUrl);
    const answers = await Promise.all(Array.from({ length: 3 }, () => postJson(`${router.url}/v2/models/iris-small-queue/infer`, IRIS)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 429, 429]);
    const after = await scrape(router.adminUrl);
    assert.equal(delta(before, after, 'switchyard_rejected_requests_total', { reason: 'batch_queue_full' }), 2);
    assert.equal(delta(before, after, 'switchyard_rejected_requests_total', { reason: 'overloaded' }), 0);
    assert.equal(delta(before, after, 'switchyard_requests_total', { model: 'iris-small-queue', status_class: '4xx' }), 2);
  });

  test('mirrored requests: one comparison each, all matching (the same model answers both)', async () => {
    const before = await scrape(router.adminUrl);
    const n = 4;
    for (let i = 0; i < n; i++) assert.equal((await postJson(`${router.url}/v2/models/iris-mirrored/infer`, IRIS)).status, 200);
    const labels = { model: 'iris-mirrored', result: 'match' };
    await waitFor(async () => delta(before, await scrape(router.adminUrl), 'switchyard_mirror_comparisons_total', labels) === n, 5000, 'the comparisons');
    const after = await scrape(router.adminUrl);
    assert.equal(delta(before, after, 'switchyard_mirror_comparisons_total', { model: 'iris-mirrored' }), n);
    // The shadow's attempts are upstream attempts too; the client's requests are counted once.
    assert.equal(delta(before, after, 'switchyard_upstream_attempt_duration_seconds_count', { cluster: 'dev', outcome: 'ok' }), 2 * n);
    assert.equal(delta(before, after, 'switchyard_requests_total', { model: 'iris-mirrored' }), n);
  });

  test('reloads: applied ones change config_info\'s hash, rejected ones change nothing', async () => {
    const before = await scrape(router.adminUrl);
    const startHash = before.labelValues('switchyard_config_info', 'hash');
    assert.deepEqual(startHash, [configHash(loadConfigFile(router.configPath))]);

    router.rewriteConfig(routerConfig(rt, batchRt, dead, { 'iris-new': { split: [{ cluster: 'dev', upstreamModel: 'iris' }] } }));
    await waitFor(async () => delta(before, await scrape(router.adminUrl), 'switchyard_config_reloads_total', { result: 'applied' }) === 1, 10_000, 'the reload');
    const reloaded = await scrape(router.adminUrl);
    const newHash = configHash(loadConfigFile(router.configPath));
    assert.notEqual(newHash, startHash[0]);
    assert.deepEqual(reloaded.select('switchyard_config_info').map((s) => [s.labels.hash, s.value]), [[newHash, 1]]);
    // The new model is a label now.
    assert.equal((await postJson(`${router.url}/v2/models/iris-new/infer`, IRIS)).status, 200);
    assert.equal(delta(reloaded, await scrape(router.adminUrl), 'switchyard_requests_total', { model: 'iris-new', status_class: '2xx' }), 1);

    router.rewriteConfig({ ...routerConfig(rt, batchRt, dead), models: { broken: { split: [] } } });
    await waitFor(async () => delta(reloaded, await scrape(router.adminUrl), 'switchyard_config_reloads_total', { result: 'rejected' }) >= 1, 10_000, 'the rejection');
    const rejected = await scrape(router.adminUrl);
    assert.equal(delta(reloaded, rejected, 'switchyard_config_reloads_total', { result: 'applied' }), 0);
    assert.deepEqual(rejected.labelValues('switchyard_config_info', 'hash'), [newHash]);
  });
});

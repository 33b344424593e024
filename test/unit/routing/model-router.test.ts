// ModelRouter against fake clusters: variant report, model-name rewriting, deadlines and the client
// timeout header, the retry policy handed down, hot replace, and mirroring that cannot touch the client.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { configSchema } from '../../../router/config/schema.js';
import type { RetryConfig } from '../../../router/config/schema.js';
import type { CallContext } from '../../../router/core/call-context.js';
import { SwitchyardError } from '../../../router/core/errors.js';
import type { LlmEvent, LlmRequest, LlmResult, LlmUpstream } from '../../../router/core/llm.js';
import type { ModelInferRequest } from '../../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../../../router/generated/inference/ModelInferResponse.js';
import type { ModelStreamInferResponse__Output } from '../../../router/generated/inference/ModelStreamInferResponse.js';
import { ModelRouter, type ClusterDispatch } from '../../../router/routing/model-router.js';
import { RouteTable } from '../../../router/routing/route-table.js';

interface Call {
  readonly method: string;
  readonly model: string;
  readonly ctx: CallContext;
  readonly retry?: RetryConfig;
  readonly request?: unknown;
}

/** A cluster that records every call and answers with what the test sets. */
class FakeCluster implements ClusterDispatch {
  readonly calls: Call[] = [];
  constructor(readonly name: string) {}
  onInfer: (request: ModelInferRequest, ctx: CallContext) => Promise<ModelInferResponse__Output> = async (request) => inferAnswer(String(request.model_name), this.name);
  onGenerate: (request: LlmRequest, ctx: CallContext) => Promise<LlmResult> = async () => eventsResult(this.name);

  infer(request: ModelInferRequest, ctx: CallContext, retry: RetryConfig): Promise<ModelInferResponse__Output> {
    this.calls.push({ method: 'infer', model: String(request.model_name), ctx, retry, request });
    return this.onInfer(request, ctx);
  }
  generate(request: LlmRequest, upstream: LlmUpstream, ctx: CallContext, retry: RetryConfig): Promise<LlmResult> {
    this.calls.push({ method: 'generate', model: upstream.model, ctx, retry, request });
    return this.onGenerate(request, ctx);
  }
  async streamInfer(request: ModelInferRequest, ctx: CallContext, retry: RetryConfig): Promise<AsyncIterable<ModelStreamInferResponse__Output>> {
    this.calls.push({ method: 'streamInfer', model: String(request.model_name), ctx, retry, request });
    const answer = inferAnswer(String(request.model_name), this.name);
    answer.parameters = { triton_final_response: { bool_param: true, parameter_choice: 'bool_param' } };
    return (async function* () {
      yield { error_message: '', infer_response: answer };
    })();
  }
  async modelReady(model: { name: string }, ctx: CallContext): Promise<boolean> {
    this.calls.push({ method: 'modelReady', model: model.name, ctx });
    return true;
  }
  async modelMetadata(model: { name: string }, ctx: CallContext) {
    this.calls.push({ method: 'modelMetadata', model: model.name, ctx });
    return { name: model.name, versions: ['1'], platform: this.name, inputs: [], outputs: [] };
  }
  async modelConfig(model: { name: string }, ctx: CallContext) {
    this.calls.push({ method: 'modelConfig', model: model.name, ctx });
    return { config: { name: model.name } as never };
  }
  async modelStatistics(model: { name: string }, ctx: CallContext) {
    this.calls.push({ method: 'modelStatistics', model: model.name, ctx });
    return { model_stats: [{ name: model.name } as never] };
  }
  snapshot() {
    return { [`${this.name}:1`]: { inFlight: this.calls.length, healthy: true, ejected: false } };
  }
}

function inferAnswer(model: string, from: string, value = 1): ModelInferResponse__Output {
  return {
    model_name: model,
    model_version: '1',
    id: from,
    parameters: {},
    outputs: [{ name: 'y', datatype: 'FP32', shape: ['1'], parameters: {}, contents: null }],
    raw_output_contents: [Buffer.from(new Float32Array([value]).buffer)],
  };
}

function eventsResult(text: string): LlmResult {
  async function* events(): AsyncGenerator<LlmEvent> {
    yield { type: 'delta', text };
    yield { type: 'end', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 } };
  }
  return { kind: 'events', events: events() };
}

const CLUSTER = { backend: 'triton-grpc', endpoints: ['127.0.0.1:1'] };

function setup(models: Record<string, unknown>, options: { maxConcurrentMirrors?: number; random?: () => number } = {}) {
  const config = configSchema.parse({ clusters: { stable: CLUSTER, canary: CLUSTER, shadow: CLUSTER }, models });
  const clusters = { stable: new FakeCluster('stable'), canary: new FakeCluster('canary'), shadow: new FakeCluster('shadow') };
  const table = new RouteTable(config.models);
  const router = new ModelRouter(table, new Map(Object.entries(clusters)), options);
  return { router, clusters, table, config };
}

function ctx(headers: Record<string, string> = {}, overrides: Partial<CallContext> = {}): CallContext & { report: { variant?: string } } {
  return { requestId: 'r1', deadline: Number.MAX_SAFE_INTEGER, signal: new AbortController().signal, facts: { headers }, report: {}, ...overrides };
}

const IRIS_SPLIT = {
  split: [
    { name: 'stable', cluster: 'stable', upstreamModel: 'iris_v1', weight: 90 },
    { name: 'canary', cluster: 'canary', upstreamModel: 'iris_v2', weight: 10 },
  ],
  match: [{ headers: { 'x-canary': '1' }, variant: 'canary' }],
  timeoutMs: 2_000,
  retry: { maxRetries: 1 },
};

const inferRequest = { model_name: 'iris', model_version: '', inputs: [] };

const LLM_REQUEST: LlmRequest = {
  kind: 'chat',
  model: 'chat',
  messages: [{ role: 'user', content: 'hi' }],
  sampling: { maxTokens: 4, stop: [] },
  stream: true,
  includeUsage: true,
  body: { model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } },
};

async function collect(result: LlmResult): Promise<string> {
  assert.equal(result.kind, 'events');
  let text = '';
  for await (const e of (result as Extract<LlmResult, { kind: 'events' }>).events) if (e.type === 'delta') text += e.text;
  return text;
}

describe('ModelRouter.infer', () => {
  test('reports the variant, names the upstream model, hands down the route retry policy, and names the client model back', async () => {
    const { router, clusters, config } = setup({ iris: IRIS_SPLIT }, { random: () => 0.95 });
    const c = ctx();
    const answer = await router.infer({ ...inferRequest }, c);
    assert.equal(c.report.variant, 'canary');
    assert.equal(answer.model_name, 'iris');
    const call = clusters.canary.calls[0]!;
    assert.equal(call.model, 'iris_v2');
    assert.equal(call.retry, config.models.iris!.retry, 'the route config object itself (clusters key retry budgets on it)');
    assert.equal(clusters.stable.calls.length, 0);
  });

  test('a header rule forces its variant whatever the weights say', async () => {
    const { router, clusters } = setup({ iris: IRIS_SPLIT }, { random: () => 0 });
    const c = ctx({ 'x-canary': '1' });
    await router.infer({ ...inferRequest }, c);
    assert.equal(c.report.variant, 'canary');
    assert.equal(clusters.canary.calls.length, 1);
  });

  test('the deadline is the route timeout, shortened (never lengthened) by x-switchyard-timeout-ms', async () => {
    const { router, clusters } = setup({ iris: IRIS_SPLIT }, { random: () => 0 });
    const cases: [Record<string, string>, number][] = [
      [{}, 2_000],
      [{ 'x-switchyard-timeout-ms': '500' }, 500],
      [{ 'x-switchyard-timeout-ms': ' 750 ' }, 750],
      [{ 'x-switchyard-timeout-ms': '60000' }, 2_000],
      [{ 'x-switchyard-timeout-ms': '99999999999999999999999' }, 2_000],
    ];
    for (const [headers, expected] of cases) {
      const before = Date.now();
      await router.infer({ ...inferRequest }, ctx(headers));
      const deadline = clusters.stable.calls.at(-1)!.ctx.deadline;
      assert.ok(deadline >= before + expected && deadline <= Date.now() + expected, `${JSON.stringify(headers)} → ${deadline - before}`);
    }
    // A client deadline already shorter than both stays.
    const soon = Date.now() + 100;
    await router.infer({ ...inferRequest }, ctx({ 'x-switchyard-timeout-ms': '500' }, { deadline: soon }));
    assert.equal(clusters.stable.calls.at(-1)!.ctx.deadline, soon);
  });

  for (const bad of ['0', '-5', 'abc', '1.5', '1e3', '0x10', '', ' ']) {
    test(`x-switchyard-timeout-ms: ${JSON.stringify(bad)} is refused before any upstream call`, async () => {
      const { router, clusters } = setup({ iris: IRIS_SPLIT });
      await assert.rejects(router.infer({ ...inferRequest }, ctx({ 'x-switchyard-timeout-ms': bad })), (err: unknown) => {
        assert.ok(err instanceof SwitchyardError);
        assert.equal(err.code, 'SWY_ERR_INPUT_INVALID_FIELD');
        assert.equal(err.message, "header 'x-switchyard-timeout-ms' must be a positive integer (milliseconds)");
        assert.equal(err.param, 'x-switchyard-timeout-ms');
        return true;
      });
      assert.equal(clusters.stable.calls.length + clusters.canary.calls.length, 0);
    });
  }

  test('an unknown model is SWY_ERR_ROUTE_MODEL_NOT_FOUND', async () => {
    const { router } = setup({ iris: IRIS_SPLIT });
    await assert.rejects(router.infer({ ...inferRequest, model_name: 'nope' }, ctx()), { code: 'SWY_ERR_ROUTE_MODEL_NOT_FOUND' });
  });
});

describe('ModelRouter.replace', () => {
  test('a request that started on the old graph finishes there; new requests use the new one', async () => {
    const { router, clusters } = setup({ iris: { split: [{ cluster: 'stable' }] } });
    let release!: () => void;
    clusters.stable.onInfer = (request) => new Promise((resolve) => (release = () => resolve(inferAnswer(String(request.model_name), 'old'))));
    const inFlight = router.infer({ ...inferRequest }, ctx());

    const next = setup({ iris: { split: [{ cluster: 'canary', upstreamModel: 'iris_next' }] } });
    router.replace(next.table, new Map(Object.entries(next.clusters)));
    const fresh = await router.infer({ ...inferRequest }, ctx());
    assert.equal(fresh.id, 'canary');
    assert.equal(next.clusters.canary.calls[0]!.model, 'iris_next');

    release();
    const old = await inFlight;
    assert.equal(old.id, 'old');
    assert.equal(old.model_name, 'iris');
    assert.equal(clusters.stable.calls.length, 1);
  });

  test('a model removed by the new table is unknown at once', async () => {
    const { router } = setup({ iris: IRIS_SPLIT });
    const next = setup({ other: { split: [{ cluster: 'stable' }] } });
    router.replace(next.table, new Map(Object.entries(next.clusters)));
    assert.deepEqual(router.models, ['other']);
    await assert.rejects(router.infer({ ...inferRequest }, ctx()), { code: 'SWY_ERR_ROUTE_MODEL_NOT_FOUND' });
  });
});

describe('mirror through the router', () => {
  const MIRRORED = { split: [{ cluster: 'stable' }], mirror: { to: { cluster: 'shadow', upstreamModel: 'iris_shadow' }, percent: 100 }, timeoutMs: 3_000 };

  test('the client gets the primary answer whether the shadow fails, throws at once or hangs', async () => {
    const { router, clusters } = setup({ iris: MIRRORED });
    const baseline = await setup({ iris: { split: [{ cluster: 'stable' }] } }).router.infer({ ...inferRequest }, ctx());
    const behaviours: (() => Promise<ModelInferResponse__Output>)[] = [
      () => Promise.reject(new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'down')),
      () => {
        throw new Error('sync bug');
      },
      () => new Promise(() => undefined),
    ];
    for (const behave of behaviours) {
      clusters.shadow.onInfer = behave;
      const c = ctx();
      const answer = await router.infer({ ...inferRequest }, c);
      assert.deepEqual(answer, baseline);
      assert.equal(c.report.variant, 'default');
    }
    assert.equal(clusters.shadow.calls.length, 3);
    assert.ok(clusters.shadow.calls.every((call) => call.model === 'iris_shadow'));
    const stats = router.mirrorStats().iris!;
    assert.equal(stats.mirrored, 3);
  });

  test('counts comparisons per model: equal outputs, then different outputs', async () => {
    const { router, clusters } = setup({ iris: MIRRORED });
    await router.infer({ ...inferRequest }, ctx());
    clusters.shadow.onInfer = async (request) => inferAnswer(String(request.model_name), 'shadow', 2);
    await router.infer({ ...inferRequest }, ctx());
    await waitUntil(() => (router.mirrorStats().iris?.statusMatch ?? 0) === 2);
    const stats = router.mirrorStats().iris!;
    assert.deepEqual([stats.mirrored, stats.mirrorOk, stats.statusMatch, stats.outputsMatch, stats.outputsDiffer], [2, 2, 2, 1, 1]);
    assert.equal(stats.primaryLatencyMs.count, 2);
  });

  test('the shadow gets the route timeout as its own deadline and its own signal, not the client ones', async () => {
    const { router, clusters } = setup({ iris: MIRRORED });
    const client = new AbortController();
    const before = Date.now();
    await router.infer({ ...inferRequest }, ctx({ 'x-switchyard-timeout-ms': '100' }, { signal: client.signal }));
    client.abort();
    const shadowCtx = clusters.shadow.calls[0]!.ctx;
    assert.ok(shadowCtx.deadline >= before + 3_000);
    assert.equal(shadowCtx.signal.aborted, false);
    assert.ok(clusters.stable.calls[0]!.ctx.deadline <= Date.now() + 100);
  });

  test('at most maxConcurrentMirrors shadows at once; the rest are skipped', async () => {
    const { router, clusters } = setup({ iris: MIRRORED }, { maxConcurrentMirrors: 1 });
    clusters.shadow.onInfer = () => new Promise(() => undefined);
    for (let i = 0; i < 3; i++) await router.infer({ ...inferRequest }, ctx());
    const stats = router.mirrorStats().iris!;
    assert.deepEqual([stats.mirrored, stats.skipped, clusters.shadow.calls.length], [1, 2, 1]);
  });

  test('mirrorStats lists mirrored models with zeros before any traffic, and no others', () => {
    const { router } = setup({ iris: MIRRORED, plain: { split: [{ cluster: 'stable' }] } });
    assert.deepEqual(Object.keys(router.mirrorStats()), ['iris']);
    assert.equal(router.mirrorStats().iris!.mirrored, 0);
  });

  test('generate: the shadow is a non-streaming copy read to its end; the client stream is unchanged and compared when consumed', async () => {
    const { router, clusters } = setup({ chat: { ...MIRRORED, llm: {} } });
    let relayRead = false;
    clusters.shadow.onGenerate = async () => {
      const body = Readable.from([Buffer.from('{"choices":[]}')]);
      body.once('end', () => (relayRead = true));
      return { kind: 'relay', status: 200, contentType: 'application/json', body };
    };
    const c = ctx();
    const result = await router.generate(LLM_REQUEST, c);
    assert.equal(c.report.variant, 'default');
    assert.equal(await collect(result), 'stable');
    await waitUntil(() => (router.mirrorStats().chat?.statusMatch ?? 0) === 1);
    assert.ok(relayRead, 'the shadow relay body was read to its end');
    const shadowRequest = clusters.shadow.calls[0]!.request as LlmRequest;
    assert.equal(shadowRequest.stream, false);
    assert.equal(shadowRequest.includeUsage, false);
    assert.equal(shadowRequest.body.stream, false);
    assert.equal('stream_options' in shadowRequest.body, false);
    assert.equal(LLM_REQUEST.body.stream, true, 'the client request is not modified');
    assert.equal(clusters.shadow.calls[0]!.model, 'iris_shadow');
    const stats = router.mirrorStats().chat!;
    assert.deepEqual([stats.mirrorOk, stats.outputsMatch, stats.outputsDiffer], [1, 0, 0], 'LLM outputs are not compared');
  });

  test('generate: a client that stops reading leaves the pair uncompared; a failed primary is compared by status', async () => {
    const { router, clusters } = setup({ chat: { ...MIRRORED, llm: {} } });
    const abandoned = await router.generate(LLM_REQUEST, ctx());
    const it = (abandoned as Extract<LlmResult, { kind: 'events' }>).events[Symbol.asyncIterator]();
    await it.next();
    await it.return?.();

    clusters.stable.onGenerate = () => Promise.reject(new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'down'));
    await assert.rejects(router.generate(LLM_REQUEST, ctx()), { code: 'SWY_ERR_UPSTREAM_UNAVAILABLE' });
    await waitUntil(() => (router.mirrorStats().chat?.mirrorOk ?? 0) === 2 && (router.mirrorStats().chat?.statusMismatch ?? 0) === 1);
    assert.equal(router.mirrorStats().chat!.statusMatch, 0);
  });
});

describe('control calls', () => {
  test('metadata, config and statistics come from the heaviest variant, named as the client model', async () => {
    const { router, clusters } = setup({ iris: IRIS_SPLIT });
    const meta = await router.modelMetadata('iris', '', ctx());
    assert.equal(meta.name, 'iris');
    assert.equal(meta.platform, 'stable');
    assert.equal((await router.modelConfig('iris', '', ctx())).config?.name, 'iris');
    assert.equal((await router.modelStatistics('iris', '', ctx())).model_stats[0]?.name, 'iris');
    assert.deepEqual(clusters.stable.calls.map((c) => c.model), ['iris_v1', 'iris_v1', 'iris_v1']);
  });

  test('readiness asks every variant; llmRoute and llmModels see only text-generation models', async () => {
    const { router, clusters } = setup({ iris: IRIS_SPLIT, chat: { split: [{ cluster: 'stable' }], llm: {} } });
    assert.deepEqual(await router.readiness(ctx()), { ready: true, models: { iris: true, chat: true } });
    assert.deepEqual(clusters.canary.calls.map((c) => c.method), ['modelReady']);
    assert.deepEqual(router.llmModels, ['chat']);
    assert.equal(router.llmRoute('chat').llm.profile, 'vllm-backend');
    assert.throws(() => router.llmRoute('iris'), { code: 'SWY_ERR_INPUT_INVALID_FIELD' });
  });

  test('clusterSnapshot names every cluster of the current graph with its endpoints', () => {
    const { router } = setup({ iris: IRIS_SPLIT });
    assert.deepEqual(Object.keys(router.clusterSnapshot()).sort(), ['canary', 'shadow', 'stable']);
    assert.deepEqual(router.clusterSnapshot().stable, { 'stable:1': { inFlight: 0, healthy: true, ejected: false } });
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

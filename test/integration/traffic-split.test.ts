// Traffic splitting through the real router process to real dev runtimes on loopback: a 90/10 split,
// a header rule, sticky sessions, and mirroring to a slow, a failing and a silent runtime — the client
// must never see the mirror.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getJson, spawnDevRuntime, waitFor, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';
import { postJson, request, type HttpResult } from '../helpers/http.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import type { MirrorStats } from '../../router/routing/mirror-stats.js';

const IRIS = { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: [5.1, 3.5, 1.4, 0.2, 6.3, 3.3, 6.0, 2.5] }] };
const CONCURRENCY = 16;

interface DevStats {
  models: Record<string, { calls: number }>;
}

async function calls(runtime: SpawnedDevRuntime, model = 'iris'): Promise<number> {
  const { body } = await getJson<DevStats>(`${runtime.httpUrl}/dev/stats`);
  return body.models[model]?.calls ?? 0;
}

async function mirrorStats(router: RunningRouter): Promise<Record<string, MirrorStats>> {
  const res = await request<{ models: Record<string, MirrorStats> }>(`${router.adminUrl}/mirror`);
  assert.equal(res.status, 200, res.text);
  return res.body.models;
}

/** `total` requests from CONCURRENCY clients back to back; `headers(i)` per request. */
async function load(url: string, total: number, headers: (i: number) => Record<string, string> = () => ({})): Promise<HttpResult[]> {
  const results: HttpResult[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        const i = next++;
        results[i] = await postJson(url, IRIS, headers(i));
      }
    }),
  );
  return results;
}

const variants = (results: HttpResult[]) => results.map((r) => r.headers.get('x-switchyard-variant'));
const count = <T>(values: T[], value: T) => values.filter((v) => v === value).length;
/** The client-visible answer minus the model name (each route answers with its own). */
const answer = (res: HttpResult) => ({ status: res.status, variant: res.headers.get('x-switchyard-variant'), body: { ...res.body, model_name: undefined } });

describe('traffic split and mirror through the router', () => {
  let stable: SpawnedDevRuntime;
  let canary: SpawnedDevRuntime;
  let slow: SpawnedDevRuntime;
  let broken: SpawnedDevRuntime;
  let router: RunningRouter;

  before(async () => {
    [stable, canary, slow, broken] = await Promise.all([
      spawnDevRuntime(['--models', 'iris,tiny-llm', '--instances', '4']),
      spawnDevRuntime(['--models', 'iris', '--instances', '4']),
      spawnDevRuntime(['--models', 'iris,tiny-llm', '--instances', '8', '--latency-a-ms', '300', '--token-latency-ms', '1']),
      spawnDevRuntime(['--models', 'iris', '--error-rate', '1']),
    ]);
    const mirrorTo = (cluster: string, percent = 100) => ({ to: { cluster, upstreamModel: 'iris' }, percent });
    router = await startRouter({
      clusters: {
        stable: { backend: 'triton-grpc', endpoints: [stable.grpcTarget] },
        canary: { backend: 'triton-grpc', endpoints: [canary.grpcTarget] },
        slow: { backend: 'triton-grpc', endpoints: [slow.grpcTarget] },
        'slow-openai': { backend: 'openai-http', endpoints: [slow.openaiUrl.replace('http://', '')] },
        // Never ejected, so every shadow really reaches the failing (later: silent) runtime.
        broken: { backend: 'triton-grpc', endpoints: [broken.grpcTarget], outlierDetection: { maxEjectionPercent: 0 } },
      },
      models: {
        iris: {
          split: [
            { name: 'stable', cluster: 'stable', weight: 90 },
            { name: 'canary', cluster: 'canary', weight: 10 },
          ],
          match: [{ headers: { 'x-canary': 'always' }, variant: 'canary' }],
          sticky: { header: 'x-session-id' },
        },
        'iris-plain': { split: [{ cluster: 'stable', upstreamModel: 'iris' }] },
        'iris-mirror-slow': { split: [{ cluster: 'stable', upstreamModel: 'iris' }], mirror: mirrorTo('slow') },
        // Long enough that silent shadows are still in flight when counted; short enough not to outlive the test by much.
        'iris-mirror-broken': { split: [{ cluster: 'stable', upstreamModel: 'iris' }], mirror: mirrorTo('broken'), timeoutMs: 20_000 },
        chat: {
          split: [{ cluster: 'stable', upstreamModel: 'tiny-llm' }],
          mirror: { to: { cluster: 'slow-openai', upstreamModel: 'tiny-llm' }, percent: 100 },
          llm: {},
        },
      },
    });
  });

  after(async () => {
    await router?.stop();
    await Promise.all([stable, canary, slow, broken].map((r) => r?.stop()));
  });

  test('90/10 over 1,000 requests: stable answers in [843, 957] (±6σ, σ = √(1000·0.9·0.1) ≈ 9.5), and each runtime saw exactly its share', async () => {
    const before = [await calls(stable), await calls(canary)];
    const results = await load(`${router.url}/v2/models/iris/infer`, 1_000);
    assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
    const seen = variants(results);
    const stableCount = count(seen, 'stable');
    assert.equal(stableCount + count(seen, 'canary'), 1_000, 'every answer names its variant');
    assert.ok(stableCount >= 843 && stableCount <= 957, `stable answered ${stableCount}`);
    assert.deepEqual([(await calls(stable)) - before[0]!, (await calls(canary)) - before[1]!], [stableCount, 1_000 - stableCount]);
  });

  test('a header rule sends every matching request to the canary', async () => {
    const before = await calls(canary);
    const results = await load(`${router.url}/v2/models/iris/infer`, 100, () => ({ 'x-canary': 'always' }));
    assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
    assert.deepEqual([...new Set(variants(results))], ['canary']);
    assert.equal((await calls(canary)) - before, 100);
  });

  test('sticky sessions: 100 session ids × 4 requests each, no session ever changes variant', async () => {
    const results = await load(`${router.url}/v2/models/iris/infer`, 400, (i) => ({ 'x-session-id': `session-${i % 100}` }));
    const bySession = new Map<string, Set<string | null>>();
    results.forEach((r, i) => {
      assert.equal(r.status, 200);
      const key = `session-${i % 100}`;
      bySession.set(key, (bySession.get(key) ?? new Set()).add(r.headers.get('x-switchyard-variant')));
    });
    const flipped = [...bySession].filter(([, set]) => set.size !== 1).map(([key]) => key);
    assert.deepEqual(flipped, []);
  });

  test('mirror to a slow runtime: the client answer is that of an unmirrored call; the shadows are counted once they finish', async () => {
    const plain = answer(await postJson(`${router.url}/v2/models/iris-plain/infer`, IRIS));
    const slowBefore = await calls(slow);
    const results = await load(`${router.url}/v2/models/iris-mirror-slow/infer`, 32);
    for (const res of results) {
      assert.deepEqual(answer(res), plain);
      assert.equal(res.body.model_name, 'iris-mirror-slow');
    }
    await waitFor(async () => (await mirrorStats(router))['iris-mirror-slow']?.mirrorOk === 32, 15_000, 'all 32 slow shadows to finish');
    const stats = (await mirrorStats(router))['iris-mirror-slow']!;
    assert.deepEqual(
      [stats.mirrored, stats.skipped, stats.mirrorFailed, stats.statusMatch, stats.statusMismatch, stats.outputsMatch, stats.outputsDiffer],
      [32, 0, 0, 32, 0, 32, 0],
    );
    assert.deepEqual([stats.primaryLatencyMs.count, stats.mirrorLatencyMs.count], [32, 32]);
    // Not a performance check: the runtime sleeps 300 ms per execution, so no shadow can take less.
    assert.ok(stats.mirrorLatencyMs.sum / 32 >= 300, `mean shadow latency ${stats.mirrorLatencyMs.sum / 32}`);
    assert.equal((await calls(slow)) - slowBefore, 32);
  });

  test('mirror to a runtime that always fails: every client gets 200 and the same answer; failures and mismatches are counted', async () => {
    const plain = answer(await postJson(`${router.url}/v2/models/iris-plain/infer`, IRIS));
    const results = await load(`${router.url}/v2/models/iris-mirror-broken/infer`, 32);
    for (const res of results) assert.deepEqual(answer(res), plain);
    await waitFor(async () => (await mirrorStats(router))['iris-mirror-broken']?.mirrorFailed === 32, 10_000, 'all 32 failing shadows to be counted');
    const stats = (await mirrorStats(router))['iris-mirror-broken']!;
    assert.deepEqual([stats.mirrored, stats.mirrorOk, stats.statusMatch, stats.statusMismatch, stats.outputsMatch + stats.outputsDiffer], [32, 0, 0, 32, 0]);
  });

  test('mirror to a runtime that never answers: clients are not held; the shadows stay in flight, neither ok nor failed', async () => {
    assert.equal((await postJson(`${broken.httpUrl}/dev/faults`, { errorRate: 0, hangRate: 1 })).status, 200);
    const before = (await mirrorStats(router))['iris-mirror-broken']!;
    // If the client path waited for its shadow, these would hang until the route's 20 s timeout and fail.
    const results = await load(`${router.url}/v2/models/iris-mirror-broken/infer`, 16);
    assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
    const stats = (await mirrorStats(router))['iris-mirror-broken']!;
    assert.deepEqual(
      [stats.mirrored - before.mirrored, stats.mirrorOk - before.mirrorOk, stats.mirrorFailed - before.mirrorFailed],
      [16, 0, 0],
    );
  });

  test('mirror of a streamed chat: the client stream is complete; the shadow is a non-streaming OpenAI call that succeeds', async () => {
    const res = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4, stream: true, stream_options: { include_usage: true } }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(text.trimEnd().endsWith('data: [DONE]'), text);
    await waitFor(async () => (await mirrorStats(router)).chat?.statusMatch === 1, 10_000, 'the chat shadow to be compared');
    const stats = (await mirrorStats(router)).chat!;
    assert.deepEqual([stats.mirrored, stats.mirrorOk, stats.mirrorFailed, stats.outputsMatch + stats.outputsDiffer], [1, 1, 0, 0]);
  });

  test('GET /mirror on the admin port lists exactly the mirrored models', async () => {
    const res = await request(`${router.adminUrl}/mirror`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(Object.keys(res.body.models).sort(), ['chat', 'iris-mirror-broken', 'iris-mirror-slow']);
    assert.equal((await request(`${router.url}/mirror`)).status, 404, 'never on the client port');
  });
});

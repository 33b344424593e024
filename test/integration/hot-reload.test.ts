// Hot reload with real processes: the router's config file rewritten (or SIGHUP) while two dev
// runtimes serve. Moving a model under load fails no request; an invalid file changes nothing and
// says why in one line; settings bound to sockets are reported as needing a restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { getJson, spawnDevRuntime, waitFor, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';
import { postJson, request } from '../helpers/http.js';
import { closedPort } from '../helpers/closed-port.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';

const IRIS = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };

interface DevStats {
  models: Record<string, { calls: number; inFlight: number }>;
}

interface LogLine {
  level: number;
  event?: string;
  msg: string;
  [key: string]: unknown;
}

async function calls(runtime: SpawnedDevRuntime): Promise<number> {
  return (await getJson<DevStats>(`${runtime.httpUrl}/dev/stats`)).body.models.iris?.calls ?? 0;
}

function logLines(router: RunningRouter, event: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of router.output) {
    try {
      const parsed = JSON.parse(line) as LogLine;
      if (parsed.event === event) lines.push(parsed);
    } catch {
      // not a log line
    }
  }
  return lines;
}

/** Waits until the router has logged `event` more than `seen` times; answers the newest such line. */
async function nextLog(router: RunningRouter, event: string, seen: number, timeoutMs = 10_000): Promise<LogLine> {
  await waitFor(() => logLines(router, event).length > seen, timeoutMs, `a "${event}" log line\n${router.output.join('\n')}`);
  return logLines(router, event).at(-1) as LogLine;
}

/** `clients` loops of back-to-back iris infers until stop(); every failure is kept with its reason. */
function steadyLoad(url: string, clients: number): { sent: () => number; stop: () => Promise<string[]> } {
  let stopped = false;
  let sent = 0;
  const failures: string[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (!stopped) {
      sent++;
      try {
        const res = await postJson(url, IRIS);
        if (res.status !== 200) failures.push(`${res.status} ${res.text}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  });
  return {
    sent: () => sent,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return failures;
    },
  };
}

type ClusterStates = Record<string, Record<string, { inFlight: number; healthy: boolean; ejected: boolean }>>;

describe('hot reload', () => {
  let a: SpawnedDevRuntime;
  let b: SpawnedDevRuntime;
  const config = (irisCluster: 'a' | 'b', extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    clusters: {
      a: { backend: 'triton-grpc', endpoints: [a.grpcTarget] },
      b: { backend: 'triton-grpc', endpoints: [b.grpcTarget] },
    },
    models: { iris: { split: [{ cluster: irisCluster }] } },
    ...extra,
  });

  before(async () => {
    // A few ms per call and several instances: requests are always in flight on A during the swap.
    // tiny-llm at 50 ms a token, so a stream outlives a reload.
    const flags = ['--models', 'iris,tiny-llm', '--instances', '4', '--latency-a-ms', '5', '--token-latency-ms', '50'];
    [a, b] = await Promise.all([spawnDevRuntime(flags), spawnDevRuntime(flags)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('the config file rewritten under steady load moves iris from A to B with zero failed requests', async () => {
    const router = await startRouter(config('a'));
    try {
      const load = steadyLoad(`${router.url}/v2/models/iris/infer`, 8);
      const [a0, b0] = [await calls(a), await calls(b)];
      await waitFor(async () => (await calls(a)) >= a0 + 50, 10_000, 'A serves the load');

      router.rewriteConfig(config('b'));
      const reloaded = await nextLog(router, 'reloaded', 0);
      assert.deepEqual(reloaded.models, ['iris']);
      assert.equal(reloaded.trigger, 'file');

      await waitFor(async () => (await calls(b)) >= b0 + 50, 10_000, 'B serves the load');
      // Every call A will ever get has arrived by now: later requests resolve to B.
      const aAfter = await calls(a);
      const bAfter = await calls(b);
      await waitFor(async () => (await calls(b)) >= bAfter + 100, 10_000, 'B keeps serving');
      assert.equal(await calls(a), aAfter, "A's call count stopped");
      await waitFor(async () => (await getJson<DevStats>(`${a.httpUrl}/dev/stats`)).body.models.iris?.inFlight === 0, 5_000, 'A idle');

      const failures = await load.stop();
      assert.ok(load.sent() > 200, `enough traffic crossed the swap (${load.sent()})`);
      assert.deepEqual(failures, [], 'no request failed across the swap');
      assert.deepEqual(logLines(router, 'reload-rejected'), []);
    } finally {
      await router.stop();
    }
  });

  test('SIGHUP after a rewrite applies it, live limits included', async () => {
    const router = await startRouter(config('a'));
    try {
      assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, IRIS)).status, 200);
      const b0 = await calls(b);
      // Written in place and signalled at once: the SIGHUP reload reads the new file.
      router.rewriteConfig(config('b', { limits: { maxTensorElements: 4, maxInFlight: 64 } }), { inPlace: true });
      router.process.kill('SIGHUP');
      await waitFor(() => logLines(router, 'reloaded').some((l) => l.trigger === 'SIGHUP'), 10_000, `a reload by SIGHUP\n${router.output.join('\n')}`);

      const ok = await postJson(`${router.url}/v2/models/iris/infer`, IRIS);
      assert.equal(ok.status, 200, ok.text);
      assert.ok((await calls(b)) > b0, 'iris now goes to B');
      // limits.maxTensorElements applies at once: 8 elements are now too many.
      const big = await postJson(`${router.url}/v2/models/iris/infer`, { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] }] });
      assert.equal(big.status, 413, big.text);
      assert.match(big.body.error, /limits\.maxTensorElements/);
      assert.deepEqual(logLines(router, 'reload-restart-needed'), [], 'nothing here needs a restart');
      assert.equal(router.process.exitCode, null, 'SIGHUP did not end the process');
    } finally {
      await router.stop();
    }
  });

  test('an invalid config is rejected in one error line naming the field; the old routes keep serving', async () => {
    const router = await startRouter(config('a'));
    try {
      const b0 = await calls(b);
      router.rewriteConfig({ ...config('b'), models: { iris: { split: [{ cluster: 'b', weight: -1 }] } } });
      const rejected = await nextLog(router, 'reload-rejected', 0);
      assert.equal(rejected.level, 50, 'logged at level error');
      assert.equal(rejected.code, 'SWY_ERR_CFG_INVALID');
      assert.match(rejected.msg, /models\.iris\.split\[0\]\.weight/);

      const res = await postJson(`${router.url}/v2/models/iris/infer`, IRIS);
      assert.equal(res.status, 200, res.text);
      assert.equal(await calls(b), b0, 'iris still goes to A');

      // What only building the fleet finds (a chat template that does not compile) is rejected the same way.
      router.rewriteConfig({
        ...config('b'),
        models: { iris: { split: [{ cluster: 'b' }] }, chat: { split: [{ cluster: 'b', upstreamModel: 'tiny-llm' }], llm: { chatTemplate: '{% if %}' } } },
      });
      const second = await nextLog(router, 'reload-rejected', 1);
      assert.match(second.msg, /models\.chat\.llm\.chatTemplate/);
      assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, IRIS)).status, 200);
      assert.equal(await calls(b), b0, 'iris still goes to A');
      assert.equal((await request(`${router.url}/v2/models/chat/ready`)).status, 404, 'the rejected model does not exist');

      // A valid file afterwards applies.
      router.rewriteConfig(config('b'));
      await nextLog(router, 'reloaded', 0);
      assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, IRIS)).status, 200);
      assert.ok((await calls(b)) > b0, 'iris now goes to B');
      assert.equal(logLines(router, 'reload-rejected').length, 2, 'one line per rejected file');
      assert.deepEqual(logLines(router, 'reloaded').length, 1);
    } finally {
      await router.stop();
    }
  });

  test('a listener port change is reported as needing a restart; the router keeps its port and applies the rest', async () => {
    const router = await startRouter(config('a'));
    try {
      const b0 = await calls(b);
      router.rewriteConfig(
        config('b', {
          listeners: { http: { host: '127.0.0.1', port: 65_000 }, admin: { host: '127.0.0.1', port: 0 } },
          limits: { maxBodyBytes: 1024 },
        }),
      );
      const warning = await nextLog(router, 'reload-restart-needed', 0);
      assert.equal(warning.level, 40, 'logged at level warn');
      assert.deepEqual(warning.keys, ['listeners.http.port', 'limits.maxBodyBytes']);
      await nextLog(router, 'reloaded', 0);

      const res = await postJson(`${router.url}/v2/models/iris/infer`, IRIS);
      assert.equal(res.status, 200, res.text);
      assert.ok((await calls(b)) > b0, 'the route change applied');
      // The body limit kept its running value: a body over the new 1 KiB is still accepted.
      const padded = await request(`${router.url}/v2/models/iris/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(IRIS) + ' '.repeat(4096),
      });
      assert.equal(padded.status, 200, padded.text);
      assert.equal((await request(`${router.adminUrl}/healthz`)).status, 200);
    } finally {
      await router.stop();
    }
  });

  test('a reload that leaves a cluster unchanged keeps its state (an ejected replica stays out); a changed cluster starts afresh', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    // One live replica and one refusing connections; health checks too slow to notice, so only
    // outlier detection (two failures in a row) takes the dead one out.
    const pair = (picker: 'round-robin' | 'least-request') => ({
      backend: 'triton-grpc',
      endpoints: [a.grpcTarget, dead],
      picker: { type: picker },
      healthCheck: { intervalMs: 600_000, unhealthyThreshold: 5 },
      outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 600_000 },
    });
    const withPair = (picker: 'round-robin' | 'least-request', alias: boolean): Record<string, unknown> => {
      const base = config('a') as { clusters: Record<string, unknown>; models: Record<string, unknown> };
      return {
        clusters: { ...base.clusters, pair: pair(picker) },
        models: {
          ...base.models,
          'iris-pair': { split: [{ cluster: 'pair', upstreamModel: 'iris' }], retry: { maxRetries: 1, backoffBaseMs: 0, backoffMaxMs: 0 } },
          ...(alias ? { 'iris-alias': { split: [{ cluster: 'a', upstreamModel: 'iris' }] } } : {}),
        },
      };
    };
    const ejected = async (router: RunningRouter): Promise<boolean> =>
      (await getJson<ClusterStates>(`${router.adminUrl}/clusters`)).body.pair?.[dead]?.ejected === true;
    const router = await startRouter(withPair('round-robin', false));
    try {
      for (let i = 0; i < 8 && !(await ejected(router)); i++) {
        assert.equal((await postJson(`${router.url}/v2/models/iris-pair/infer`, IRIS)).status, 200, 'retried onto the live replica');
      }
      assert.ok(await ejected(router), 'the dead replica is ejected');

      // Only the models change: cluster `pair` is carried over with its ejection.
      router.rewriteConfig(withPair('round-robin', true));
      await nextLog(router, 'reloaded', 0);
      assert.equal((await postJson(`${router.url}/v2/models/iris-alias/infer`, IRIS)).status, 200, 'the new route serves');
      assert.ok(await ejected(router), 'still ejected after the reload');
      await nextLog(router, 'fleet-retired', 0);
      for (let i = 0; i < 4; i++) assert.equal((await postJson(`${router.url}/v2/models/iris-pair/infer`, IRIS)).status, 200, 'the carried cluster still serves after the old fleet closed');

      // A changed cluster (another picker) is built anew: its outlier detector starts empty.
      router.rewriteConfig(withPair('least-request', true));
      await nextLog(router, 'reloaded', 1);
      assert.equal(await ejected(router), false, 'the rebuilt cluster has no ejection yet');
    } finally {
      await router.stop();
    }
  });

  test('a stream in flight on the previous fleet finishes there (openai-http, whose close cuts connections)', async () => {
    const vllm = (irisCluster: 'a' | 'b', chatCluster: 'a-vllm' | 'b-vllm'): Record<string, unknown> => {
      const base = config(irisCluster) as { clusters: Record<string, unknown>; models: Record<string, unknown> };
      return {
        clusters: {
          ...base.clusters,
          'a-vllm': { backend: 'openai-http', endpoints: [a.openaiUrl.replace('http://', '')] },
          'b-vllm': { backend: 'openai-http', endpoints: [b.openaiUrl.replace('http://', '')] },
        },
        models: { ...base.models, chat: { split: [{ cluster: chatCluster, upstreamModel: 'tiny-llm' }], llm: {} } },
      };
    };
    const llmCalls = async (runtime: SpawnedDevRuntime): Promise<{ calls: number; inFlight: number }> =>
      (await getJson<DevStats>(`${runtime.httpUrl}/dev/stats`)).body.models['tiny-llm'] ?? { calls: 0, inFlight: 0 };
    const router = await startRouter(vllm('a', 'a-vllm'));
    try {
      const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const b0 = (await llmCalls(b)).calls;
      const stream = await client.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'Tell me a long story.' }],
        max_tokens: 40,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = stream[Symbol.asyncIterator]();
      const first = await chunks.next();
      assert.equal(first.done, false);

      router.rewriteConfig(vllm('a', 'b-vllm'));
      await nextLog(router, 'reloaded', 0);
      assert.equal((await llmCalls(a)).inFlight, 1, 'the stream is still running on A after the swap');
      assert.deepEqual(logLines(router, 'fleet-retired'), [], 'the previous fleet waits for it');

      let usage: OpenAI.CompletionUsage | undefined;
      for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) usage = next.value.usage ?? usage;
      assert.equal(usage?.completion_tokens, 40, 'the stream ran to its end on the previous fleet');
      const retired = await nextLog(router, 'fleet-retired', 0);
      assert.equal(retired.inFlight, 0, 'closed once drained, not at the timeout');

      const after = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
      assert.equal(after.choices[0]?.finish_reason, 'length');
      assert.equal((await llmCalls(b)).calls, b0 + 1, 'new requests go to B');
    } finally {
      await router.stop();
    }
  });
});

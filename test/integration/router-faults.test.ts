// The router when upstreams fail, when it is told to stop, and when its config is wrong.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { getJson, spawnDevRuntime, waitFor } from '../helpers/dev-runtime.js';
import { devConfig, startRouter, type RunningRouter } from '../helpers/start-router.js';
import { closedPort } from '../helpers/closed-port.js';
import { postJson, request } from '../helpers/http.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
interface DevStats {
  models: Record<string, { inFlight: number }>;
}
const IRIS = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };

describe('upstream failures', () => {
  test('a model whose backend is down → 503 while other models keep working', async () => {
    const runtime = await spawnDevRuntime();
    const port = await closedPort();
    const router = await startRouter({
      clusters: {
        dev: { backend: 'triton-grpc', endpoints: [runtime.grpcTarget] },
        down: { backend: 'triton-grpc', endpoints: [`127.0.0.1:${port}`] },
      },
      models: { iris: { split: [{ cluster: 'dev' }] }, 'iris-down': { split: [{ cluster: 'down', upstreamModel: 'iris' }] } },
    });
    try {
      const [down, up] = await Promise.all([
        postJson(`${router.url}/v2/models/iris-down/infer`, IRIS),
        postJson(`${router.url}/v2/models/iris/infer`, IRIS),
      ]);
      assert.equal(down.status, 503, down.text);
      assert.match(down.body.error, /unavailable/);
      assert.equal(up.status, 200);

      assert.equal((await request(`${router.url}/v2/models/iris-down/ready`)).status, 503);
      assert.equal((await request(`${router.url}/v2/models/iris-down`)).status, 503);
      assert.equal((await request(`${router.url}/v2/health/ready`)).status, 503);
      const readyz = await request(`${router.adminUrl}/readyz`);
      assert.equal(readyz.status, 503);
      assert.deepEqual(readyz.body.models, { iris: true, 'iris-down': false });
      assert.equal((await request(`${router.adminUrl}/healthz`)).status, 200);
    } finally {
      await router.stop();
      await runtime.stop();
    }
  });

  test('a runtime that crashes mid-run → 503, and the router recovers when it is back', async () => {
    const runtime = await spawnDevRuntime();
    const router = await startRouter(devConfig(runtime.grpcTarget));
    let second: Awaited<ReturnType<typeof spawnDevRuntime>> | undefined;
    try {
      assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, IRIS)).status, 200);
      runtime.process.kill('SIGKILL');
      await new Promise((resolve) => runtime.process.once('exit', resolve));
      const res = await postJson(`${router.url}/v2/models/iris/infer`, IRIS);
      assert.equal(res.status, 503, res.text);
      assert.equal((await request(`${router.adminUrl}/healthz`)).status, 200);

      const port = Number(runtime.grpcTarget.split(':').pop());
      second = await spawnDevRuntime([`--grpc-port`, String(port)]);
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await postJson(`${router.url}/v2/models/iris/infer`, IRIS)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200);
    } finally {
      await router.stop();
      await second?.stop();
      await runtime.stop();
    }
  });

  test('the route deadline becomes the upstream deadline → 504', async () => {
    const runtime = await spawnDevRuntime(['--hang-rate', '1']);
    const router = await startRouter(devConfig(runtime.grpcTarget, { iris: { split: [{ cluster: 'dev' }], timeoutMs: 300 } }));
    try {
      const res = await postJson(`${router.url}/v2/models/iris/infer`, IRIS);
      assert.equal(res.status, 504, res.text);
      assert.match(res.body.error, /deadline/);
    } finally {
      await router.stop();
      await runtime.stop();
    }
  });
});

describe('admission', () => {
  test('beyond limits.maxInFlight: 503 with retry-after at once, the admitted requests still succeed', async () => {
    const runtime = await spawnDevRuntime(['--latency-a-ms', '1000']);
    const router = await startRouter(devConfig(runtime.grpcTarget, undefined, { limits: { maxInFlight: 2 } }));
    try {
      const admitted = [postJson(`${router.url}/v2/models/iris/infer`, IRIS), postJson(`${router.url}/v2/models/iris/infer`, IRIS)];
      // Both admitted requests are upstream (one executing, one queued on the single instance).
      await waitFor(async () => (await getJson<DevStats>(`${runtime.httpUrl}/dev/stats`)).body.models.iris?.inFlight === 2, 5000, 'two calls in flight upstream');
      const rejected = await postJson(`${router.url}/v2/models/iris/infer`, IRIS);
      assert.equal(rejected.status, 503, rejected.text);
      assert.equal(rejected.headers.get('retry-after'), '1');
      assert.match(rejected.body.error, /limit of 2 in-flight/);
      for (const res of await Promise.all(admitted)) assert.equal(res.status, 200, res.text);
      // The slots come back: the next request is admitted.
      assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, IRIS)).status, 200);
    } finally {
      await router.stop();
      await runtime.stop();
    }
  });
});

describe('process lifecycle', () => {
  test('logLevel warn: the ready line (with the bound ports) is still written, info lines are not', async () => {
    const runtime = await spawnDevRuntime();
    let router: RunningRouter | undefined;
    try {
      // Without the ready line this start times out.
      router = await startRouter({ ...devConfig(runtime.grpcTarget), logLevel: 'warn' });
      assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, IRIS)).status, 200);
      const events = router.output.flatMap((line) => {
        try {
          return [(JSON.parse(line) as { event?: string; level: number })];
        } catch {
          return [];
        }
      });
      assert.equal(events.filter((e) => e.event === 'ready').length, 1);
      assert.deepEqual(events.filter((e) => e.event !== 'ready' && e.level < 40), [], 'nothing else below warn');
    } finally {
      await router?.stop();
      await runtime.stop();
    }
  });

  test('SIGTERM lets an in-flight request finish, then the router exits 0', async () => {
    const runtime = await spawnDevRuntime(['--latency-a-ms', '600']);
    const router = await startRouter(devConfig(runtime.grpcTarget));
    try {
      const inFlight = postJson(`${router.url}/v2/models/iris/infer`, IRIS);
      await new Promise((r) => setTimeout(r, 150));
      const exit = router.stop('SIGTERM');
      const res = await inFlight;
      assert.equal(res.status, 200, res.text);
      assert.equal(await exit, 0);
    } finally {
      await router.stop();
      await runtime.stop();
    }
  });

  test('SIGTERM mid-stream: the SSE stream runs to [DONE], new requests are refused, then the router exits 0', async () => {
    const runtime = await spawnDevRuntime(['--models', 'iris,tiny-llm', '--token-latency-ms', '40']);
    const router = await startRouter(
      devConfig(runtime.grpcTarget, { iris: { split: [{ cluster: 'dev' }] }, 'tiny-llm': { split: [{ cluster: 'dev' }], llm: {} } }),
    );
    try {
      const res = await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny-llm', stream: true, max_tokens: 20, ignore_eos: true, messages: [{ role: 'user', content: 'count' }] }),
      });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      const first = await reader.read(); // the role chunk: the stream is open
      assert.equal(first.done, false);

      const exit = router.stop('SIGTERM');
      // Draining: a new request is turned away (503) or finds the port closed — never served half-way.
      await waitFor(async () => {
        try {
          return (await postJson(`${router.url}/v2/models/iris/infer`, IRIS)).status === 503;
        } catch {
          return true;
        }
      }, 5000, 'new requests refused while draining');

      let body = new TextDecoder().decode(first.value);
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        body += new TextDecoder().decode(value);
      }
      assert.match(body, /"finish_reason":"length"/);
      assert.ok(body.endsWith('data: [DONE]\n\n'), 'the stream ended cleanly');
      assert.equal(await exit, 0);
    } finally {
      await router.stop();
      await runtime.stop();
    }
  });

  test('a bad config: the router refuses to start and names the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-bad-'));
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'clusters: { dev: { backend: triton-grpc, endpoints: ["nohost"] } }\nmodels: { iris: { split: [{ cluster: dev, weight: -1 }] } }\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'router/main.ts', '--config', path], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 78, run.stderr);
    assert.match(run.stderr, /SWY_ERR_CFG_INVALID/);
    assert.match(run.stderr, /clusters\.dev\.endpoints\[0\]: must be host:port/);
    assert.match(run.stderr, /models\.iris\.split\[0\]\.weight/);
  });
});

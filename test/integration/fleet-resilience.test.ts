// The router across a fleet of real dev runtimes on loopback: a replica killed under load, a hung
// replica, pickers compared on a slow replica, prefix affinity, and the retry budget.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getJson, spawnDevRuntime, waitFor, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';
import { postJson, request } from '../helpers/http.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';

const IRIS = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };

interface DevStats {
  models: Record<string, { calls: number; succeeded: number }>;
}

async function calls(runtime: SpawnedDevRuntime, model = 'iris'): Promise<number> {
  const { body } = await getJson<DevStats>(`${runtime.httpUrl}/dev/stats`);
  return body.models[model]?.calls ?? 0;
}

type EndpointState = { inFlight: number; healthy: boolean; ejected: boolean };

async function endpointStates(router: RunningRouter, cluster: string): Promise<Record<string, EndpointState>> {
  const res = await request(`${router.adminUrl}/clusters`);
  return (res.body as Record<string, Record<string, EndpointState>>)[cluster] ?? {};
}

/** `concurrency` clients, each sending requests back to back until `total` were sent; every status is kept. */
async function load(url: string, body: unknown, total: number, concurrency: number): Promise<number[]> {
  const statuses: number[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        sent++;
        statuses.push((await postJson(url, body)).status);
      }
    }),
  );
  return statuses;
}

function cluster(runtimes: SpawnedDevRuntime[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { backend: 'triton-grpc', endpoints: runtimes.map((r) => r.grpcTarget), ...extra };
}

async function stopAll(router: RunningRouter | undefined, runtimes: SpawnedDevRuntime[]): Promise<void> {
  await router?.stop();
  await Promise.all(runtimes.map((r) => r.stop()));
}

describe('failover', () => {
  test('a replica killed under steady load: no failed request, ejected, back in rotation once restarted', async () => {
    const runtimes = await Promise.all([0, 1, 2].map(() => spawnDevRuntime(['--models', 'iris', '--instances', '4'])));
    let router: RunningRouter | undefined;
    try {
      router = await startRouter({
        clusters: {
          fleet: cluster(runtimes, {
            healthCheck: { intervalMs: 200, timeoutMs: 200, unhealthyThreshold: 1, healthyThreshold: 1 },
            outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 1000, maxEjectionMs: 5000, maxEjectionPercent: 50 },
          }),
        },
        models: { iris: { split: [{ cluster: 'fleet' }], retry: { maxRetries: 2, budgetPercent: 100, minRetryConcurrency: 10 } } },
      });
      const url = `${router.url}/v2/models/iris/infer`;
      const victim = runtimes[1] as SpawnedDevRuntime;
      const victimPort = victim.grpcPort;

      const traffic = load(url, IRIS, 600, 8);
      await waitFor(async () => (await calls(victim)) >= 20, 10_000, 'the victim serves traffic');
      victim.process.kill('SIGKILL');
      const statuses = await traffic;
      assert.deepEqual(statuses.filter((s) => s !== 200), [], 'every request succeeded (failed attempts were retried elsewhere)');

      const address = `127.0.0.1:${victimPort}`;
      await waitFor(async () => {
        const state = (await endpointStates(router as RunningRouter, 'fleet'))[address];
        return state !== undefined && (!state.healthy || state.ejected);
      }, 5000, 'the dead endpoint is out of rotation');

      // Restarted on the same port, it is checked healthy again and gets traffic.
      const revived = await spawnDevRuntime(['--models', 'iris', '--grpc-port', String(victimPort)]);
      runtimes[1] = revived;
      await waitFor(async () => {
        const state = (await endpointStates(router as RunningRouter, 'fleet'))[address];
        return state?.healthy === true && !state.ejected;
      }, 10_000, 'the restarted endpoint is healthy again');
      const more = await load(url, IRIS, 60, 4);
      assert.deepEqual(more.filter((s) => s !== 200), []);
      assert.ok((await calls(revived)) > 0, 'the restarted endpoint serves again');
    } finally {
      await stopAll(router, runtimes);
    }
  });

  test('a hung replica: requests fail over within the deadline (per-try timeout)', async () => {
    const hung = await spawnDevRuntime(['--models', 'iris', '--hang-rate', '1']);
    const healthy = await spawnDevRuntime(['--models', 'iris']);
    let router: RunningRouter | undefined;
    try {
      router = await startRouter({
        clusters: { fleet: cluster([hung, healthy], { picker: { type: 'round-robin' } }) },
        // A generous per-try limit: on a loaded CI box even the healthy replica may take a few hundred ms.
        // Round-robin sends every client's other request to the hung replica, so all 4 can time out at
        // once and ask to retry together; the budget (tested on its own below) must not refuse the 4th.
        models: {
          iris: {
            split: [{ cluster: 'fleet' }],
            timeoutMs: 15000,
            retry: { maxRetries: 2, perTryTimeoutMs: 1500, budgetPercent: 100, minRetryConcurrency: 10 },
          },
        },
      });
      const statuses = await load(`${router.url}/v2/models/iris/infer`, IRIS, 20, 4);
      assert.deepEqual(statuses.filter((s) => s !== 200), []);
      assert.ok((await calls(hung)) > 0, 'the hung replica was tried');
    } finally {
      await stopAll(router, [hung, healthy]);
    }
  });
});

describe('circuit breaker and discovery', () => {
  test('every endpoint at maxInFlightPerEndpoint: up to maxPending wait, beyond that a fast 503 with Retry-After', async () => {
    const runtime = await spawnDevRuntime(['--models', 'iris', '--latency-a-ms', '1000']);
    let router: RunningRouter | undefined;
    try {
      router = await startRouter({
        clusters: { fleet: cluster([runtime], { circuitBreaker: { maxInFlightPerEndpoint: 1, maxPending: 1 } }) },
        models: { iris: { split: [{ cluster: 'fleet' }] } },
      });
      const url = `${router.url}/v2/models/iris/infer`;
      const first = postJson(url, IRIS);
      await waitFor(async () => (await endpointStates(router as RunningRouter, 'fleet'))[runtime.grpcTarget]?.inFlight === 1, 5000, 'one request in flight');
      // Two more while the slot is taken: one may wait (maxPending 1), the other is refused at once.
      const [second, third] = await Promise.all([postJson(url, IRIS), postJson(url, IRIS)]);
      const refused = [second, third].filter((r) => r.status === 503);
      const served = [second, third].filter((r) => r.status === 200);
      assert.equal(refused.length, 1, `one refused: ${second.status}, ${third.status}`);
      assert.equal(served.length, 1, 'the waiting one got the slot when it freed');
      assert.equal(refused[0]?.headers.get('retry-after'), '1');
      assert.match(refused[0]?.body.error, /at its limit/);
      assert.equal((await first).status, 200);
    } finally {
      await stopAll(router, [runtime]);
    }
  });

  test('DNS discovery: endpoints come from a name (localhost via /etc/hosts), requests flow', async () => {
    const runtime = await spawnDevRuntime(['--models', 'iris']);
    let router: RunningRouter | undefined;
    try {
      router = await startRouter({
        clusters: {
          fleet: {
            backend: 'triton-grpc',
            discovery: { dns: { name: 'localhost', port: runtime.grpcPort, refreshMs: 500 } },
            healthCheck: { intervalMs: 200, timeoutMs: 200, unhealthyThreshold: 1, healthyThreshold: 1 },
          },
        },
        models: { iris: { split: [{ cluster: 'fleet' }] } },
      });
      await waitFor(async () => Object.keys(await endpointStates(router as RunningRouter, 'fleet')).includes(`127.0.0.1:${runtime.grpcPort}`), 5000, 'localhost resolved');
      const statuses = await load(`${router.url}/v2/models/iris/infer`, IRIS, 40, 4);
      assert.deepEqual(statuses.filter((s) => s !== 200), []);
      // If localhost also resolves to ::1 (where nothing listens), that endpoint is found unhealthy.
      const states = await endpointStates(router, 'fleet');
      if (states[`[::1]:${runtime.grpcPort}`] !== undefined) {
        await waitFor(async () => (await endpointStates(router as RunningRouter, 'fleet'))[`[::1]:${runtime.grpcPort}`]?.healthy === false, 5000, '::1 is unhealthy');
      }
    } finally {
      await stopAll(router, [runtime]);
    }
  });
});

describe('pickers', () => {
  test('least-request sends a slow replica less than round-robin does', async () => {
    // 20 ms vs 1 ms per call; one instance each, so the slow one queues.
    const slow = await spawnDevRuntime(['--models', 'iris', '--latency-a-ms', '20']);
    const fast = await spawnDevRuntime(['--models', 'iris', '--latency-a-ms', '1']);
    const shares: Record<string, number> = {};
    try {
      for (const picker of ['round-robin', 'least-request'] as const) {
        const router = await startRouter({
          clusters: { fleet: cluster([slow, fast], { picker: { type: picker } }) },
          models: { iris: { split: [{ cluster: 'fleet' }] } },
        });
        try {
          const before = [await calls(slow), await calls(fast)] as const;
          const statuses = await load(`${router.url}/v2/models/iris/infer`, IRIS, 300, 8);
          assert.deepEqual(statuses.filter((s) => s !== 200), []);
          const slowCalls = (await calls(slow)) - before[0];
          const fastCalls = (await calls(fast)) - before[1];
          shares[picker] = slowCalls / (slowCalls + fastCalls);
        } finally {
          await router.stop();
        }
      }
      // Round-robin alternates strictly: half each. Least-request keeps the slow replica's queue short.
      assert.ok(Math.abs((shares['round-robin'] ?? 0) - 0.5) < 0.02, `round-robin slow share ${shares['round-robin']}`);
      assert.ok((shares['least-request'] ?? 1) < 0.6 * (shares['round-robin'] ?? 0), `least-request slow share ${shares['least-request']} vs round-robin ${shares['round-robin']}`);
    } finally {
      await stopAll(undefined, [slow, fast]);
    }
  });

  test('prefix affinity: a shared system prompt concentrates on one endpoint until it is loaded', async () => {
    const runtimes = await Promise.all([0, 1, 2].map(() => spawnDevRuntime(['--models', 'tiny-llm', '--token-latency-ms', '1'])));
    let router: RunningRouter | undefined;
    try {
      router = await startRouter({
        clusters: { fleet: cluster(runtimes, { picker: { type: 'prefix-affinity', prefixChars: 64, loadFactor: 1.25 } }) },
        models: { chat: { split: [{ cluster: 'fleet', upstreamModel: 'tiny-llm' }], llm: {} } },
      });
      const system = 'You are the support assistant of the Switchyard project. Answer briefly and politely.';
      const url = `${router.url}/v1/chat/completions`;
      const ask = (i: number) =>
        postJson(url, {
          model: 'chat',
          max_tokens: 4,
          messages: [{ role: 'system', content: system }, { role: 'user', content: `question number ${i}` }],
        });
      // One at a time: nothing is loaded, so every request goes where the prefix lives.
      for (let i = 0; i < 30; i++) assert.equal((await ask(i)).status, 200);
      const sequential = await Promise.all(runtimes.map((r) => calls(r, 'tiny-llm')));
      assert.deepEqual([...sequential].sort((a, b) => a - b), [0, 0, 30], `all on one endpoint: ${sequential}`);

      // Many at once, with slow tokens so they overlap: the warm endpoint gets loaded, the rest spill over.
      for (const r of runtimes) assert.equal((await postJson(`${r.httpUrl}/dev/faults`, { tokenLatencyMs: 100 })).status, 200);
      const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => ask(100 + i).then((r) => r.status)));
      assert.deepEqual(statuses.filter((s) => s !== 200), []);
      const concurrent = (await Promise.all(runtimes.map((r) => calls(r, 'tiny-llm')))).map((n, i) => n - (sequential[i] ?? 0));
      const busiest = Math.max(...concurrent);
      assert.ok(busiest < 12, `some requests spilled over: ${concurrent}`);
      assert.ok(busiest >= 12 / 3, `the warm endpoint still took the largest share: ${concurrent}`);
    } finally {
      await stopAll(router, runtimes);
    }
  });
});

describe('retry budget', () => {
  test('with every endpoint hanging, retries stay within budgetPercent of the requests in flight', async () => {
    const runtimes = await Promise.all([0, 1, 2].map(() => spawnDevRuntime(['--models', 'iris', '--hang-rate', '1', '--instances', '32'])));
    let router: RunningRouter | undefined;
    try {
      router = await startRouter({
        clusters: { fleet: cluster(runtimes) },
        models: {
          iris: {
            split: [{ cluster: 'fleet' }],
            timeoutMs: 3000,
            retry: { maxRetries: 2, perTryTimeoutMs: 400, budgetPercent: 20, minRetryConcurrency: 0, backoffBaseMs: 0, backoffMaxMs: 0 },
          },
        },
      });
      const requests = 20;
      const statuses = await Promise.all(Array.from({ length: requests }, () => postJson(`${router!.url}/v2/models/iris/infer`, IRIS).then((r) => r.status)));
      assert.deepEqual([...new Set(statuses)], [504], 'every request timed out');
      const attempts = (await Promise.all(runtimes.map((r) => calls(r)))).reduce((a, b) => a + b, 0);
      // Without a budget: 20 × 3 = 60 attempts. With 20 % of 20 in flight = 4 concurrent retries,
      // each of the two retry rounds has at most 4: at most 20 + 8 attempts.
      assert.ok(attempts >= requests, `every request was tried once (${attempts})`);
      assert.ok(attempts <= requests + 2 * 4, `retries within the budget: ${attempts - requests} retries`);
    } finally {
      await stopAll(router, runtimes);
    }
  });
});

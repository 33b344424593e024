// What happens to an OpenAI stream when the client leaves or the upstream fails: cancellation
// reaches the runtime at once on both backend kinds, failures before the first token are HTTP
// errors, failures after it are an SSE error event and a clean end, and the router stays healthy.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { getJson, spawnDevRuntime, waitFor, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';
import { postJson, request } from '../helpers/http.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { llmConfig } from '../helpers/llm-config.js';

interface DevStats {
  models: Record<string, { cancelled: number; inFlight: number }>;
}

const MESSAGES = [{ role: 'user' as const, content: 'Tell me a long story.' }];
const IRIS = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };

async function stats(runtime: SpawnedDevRuntime, model: string): Promise<{ cancelled: number; inFlight: number }> {
  const { body } = await getJson<DevStats>(`${runtime.httpUrl}/dev/stats`);
  return body.models[model] ?? { cancelled: 0, inFlight: 0 };
}

async function routerInFlight(router: RunningRouter): Promise<number> {
  return ((await request(`${router.adminUrl}/readyz`)).body as { inFlight: number }).inFlight;
}

async function withStack(flags: string[], body: (runtime: SpawnedDevRuntime, router: RunningRouter, client: OpenAI) => Promise<void>): Promise<void> {
  const runtime = await spawnDevRuntime(['--models', 'iris,tiny-llm,tiny-llm-trt', ...flags]);
  const router = await startRouter(llmConfig(runtime));
  try {
    await body(runtime, router, new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 }));
  } finally {
    await router.stop();
    await runtime.stop();
  }
}

describe('client disconnect', () => {
  // 2 s per token: had the cancel waited for the next token (or the natural end), the runtime
  // would not have counted it within the wait below.
  test('leaving after the first chunk cancels the upstream call at once, on every backend kind', async () => {
    await withStack(['--token-latency-ms', '2000', '--prefill-ms-per-token', '0'], async (runtime, router, client) => {
      for (const [model, upstream] of [['tiny-llm', 'tiny-llm'], ['tiny-llm-trt', 'tiny-llm-trt'], ['tiny-llm-vllm', 'tiny-llm']] as const) {
        const before = await stats(runtime, upstream);
        const stream = await client.chat.completions.create({ model, messages: MESSAGES, max_tokens: 50, stream: true });
        let seen = 0;
        for await (const chunk of stream) {
          seen++;
          if (chunk.choices[0]?.delta.content) break; // the first token arrived: leave
        }
        assert.ok(seen >= 1);
        await waitFor(async () => (await stats(runtime, upstream)).cancelled === before.cancelled + 1, 1000, `${model}: the runtime counts the cancel`);
        await waitFor(async () => (await stats(runtime, upstream)).inFlight === 0, 1000, `${model}: nothing left running upstream`);
        await waitFor(async () => (await routerInFlight(router)) === 0, 1000, `${model}: the router's in-flight count is back to zero`);
      }
    });
  });
});

describe('upstream failures', () => {
  test('an error before the first token is an HTTP error in the OpenAI envelope', async () => {
    await withStack(['--error-rate', '1'], async (_runtime, _router, client) => {
      for (const model of ['tiny-llm', 'tiny-llm-trt', 'tiny-llm-vllm']) {
        for (const stream of [false, true]) {
          const attempt = (async () => {
            const res = await client.chat.completions.create({ model, messages: MESSAGES, stream });
            if (stream) for await (const _chunk of res as AsyncIterable<unknown>);
          })();
          await assert.rejects(attempt, (err: unknown) => {
            // Triton paths know the outcome before the first byte, so the status is the error.
            // vLLM starts its stream before the engine fails and reports in an error event, which
            // the router relays as is (the status line is already sent upstream).
            const relayedStream = model === 'tiny-llm-vllm' && stream;
            assert.ok(err instanceof OpenAI.APIError, `${model} stream=${stream}: ${String(err)}`);
            if (!relayedStream) assert.ok(err instanceof OpenAI.InternalServerError, `${model} stream=${stream}: ${String(err)}`);
            assert.match(err.message, /injected fault/);
            return true;
          });
        }
      }
    });
  });

  test('an upstream that dies mid-stream → an SSE error event, a clean end, and a healthy router', async () => {
    for (const model of ['tiny-llm', 'tiny-llm-vllm']) {
      const doomed = await spawnDevRuntime(['--models', 'iris,tiny-llm', '--token-latency-ms', '200']);
      const healthy = await spawnDevRuntime(['--models', 'iris']);
      const config = llmConfig(doomed);
      (config.clusters as Record<string, unknown>).healthy = { backend: 'triton-grpc', endpoints: [healthy.grpcTarget] };
      (config.models as Record<string, unknown>).iris = { split: [{ cluster: 'healthy' }] };
      const router = await startRouter(config);
      try {
        const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
        const stream = await client.chat.completions.create({ model, messages: MESSAGES, max_tokens: 50, stream: true });
        let text = '';
        await assert.rejects(
          (async () => {
            for await (const chunk of stream) {
              text += chunk.choices[0]?.delta.content ?? '';
              if (text !== '' && doomed.process.exitCode === null) doomed.process.kill('SIGKILL');
            }
          })(),
          (err: unknown) => {
            assert.ok(err instanceof OpenAI.APIError, `${model}: ${String(err)}`);
            assert.match(err.message, /unavailable|closed|complete/i, model);
            return true;
          },
        );
        assert.notEqual(text, '', 'tokens arrived before the failure');
        assert.equal((await request(`${router.adminUrl}/healthz`)).status, 200);
        assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, IRIS)).status, 200);
        await waitFor(async () => (await routerInFlight(router)) === 0, 2000, 'in-flight back to zero');
      } finally {
        await router.stop();
        await doomed.stop();
        await healthy.stop();
      }
    }
  });
});

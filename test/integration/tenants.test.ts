// API keys, tenants, limits and cost accounting through real router processes and the dev runtime:
// 401 on every listener without a valid key (the official OpenAI SDK's AuthenticationError, V2 REST,
// gRPC UNAUTHENTICATED), 403 or — after a reload — the unknown-model 404 for a model outside the
// tenant's list, requests-per-minute refusals with Retry-After and OpenAI's x-ratelimit-* headers,
// token reservations settled exactly (non-stream, stream, relayed vLLM answer, a client that leaves
// mid-stream — read back from the next request's x-ratelimit-remaining-tokens), concurrency, the
// admin listener's keys, the tenant metrics and access-log fields, and keys that never appear in
// logs or /metrics. Then limits shared by two routers through one Redis, and a Redis outage under
// both policies.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import OpenAI from 'openai';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelStreamInferResponse__Output } from '../../router/generated/inference/ModelStreamInferResponse.js';
import { grpcError, healthClient, inferenceClient, spawnDevRuntime, unary, waitFor, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';
import { postJson, request, type HttpResult } from '../helpers/http.js';
import { Scrape } from '../helpers/prometheus-scrape.js';
import { startRedisServer, type RunningRedis } from '../helpers/redis-server.js';
import { devConfig, startRouter, type RunningRouter } from '../helpers/start-router.js';

const ACME_KEY = 'sk-acme-7f3a91c2e8d4';
const GLOBEX_KEY = 'sk-globex-2b6d0e4f9a1c';
const METERED_KEY = 'sk-metered-5c8e1a7b3d9f';
const SINGLE_KEY = 'sk-single-9d2f6b0c4e8a';
const ADMIN_KEY = 'sk-admin-4e1c7a9f2b6d';
const WRONG_KEY = 'sk-wrong-0a0a0a0a0a0a';
const ALL_KEYS = [ACME_KEY, GLOBEX_KEY, METERED_KEY, SINGLE_KEY, ADMIN_KEY, WRONG_KEY];

const sha = (key: string): string => createHash('sha256').update(key).digest('hex');
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const metadata = (entries: Record<string, string>): grpc.Metadata => {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) md.set(k, v);
  return md;
};

const IRIS = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };
const irisGrpc = (model = 'iris'): ModelInferRequest => ({
  model_name: model,
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [5.1, 3.5, 1.4, 0.2] } }],
});
const MESSAGES = [{ role: 'user' as const, content: 'Count to ten, slowly.' }]; // 21 characters → 6 tokens estimated
const PROMPT_ESTIMATE = Math.ceil(MESSAGES[0]!.content.length / 4);

process.env.SWY_TEST_GLOBEX_SHA = sha(GLOBEX_KEY); // a digest given through ${ENV}, as an operator would

function tenantsConfig(runtime: SpawnedDevRuntime, slow: SpawnedDevRuntime, unauthorizedModel = 'forbidden'): Record<string, unknown> {
  return {
    clusters: {
      dev: { backend: 'triton-grpc', endpoints: [runtime.grpcTarget] },
      'dev-vllm': { backend: 'openai-http', endpoints: [runtime.openaiUrl.replace('http://', '')] },
      slow: { backend: 'triton-grpc', endpoints: [slow.grpcTarget] },
    },
    models: {
      iris: { split: [{ cluster: 'dev' }] },
      secret: { split: [{ cluster: 'dev', upstreamModel: 'iris' }] },
      'tiny-llm': { split: [{ cluster: 'dev' }], llm: { defaultMaxTokens: 16 } },
      'tiny-llm-vllm': { split: [{ cluster: 'dev-vllm', upstreamModel: 'tiny-llm' }], llm: { defaultMaxTokens: 16 } },
      'slow-llm': { split: [{ cluster: 'slow', upstreamModel: 'tiny-llm' }], llm: { defaultMaxTokens: 16 } },
    },
    auth: {
      enabled: true,
      unauthorizedModel,
      keys: [
        { sha256: sha(ACME_KEY), tenant: 'acme' },
        { sha256: '${SWY_TEST_GLOBEX_SHA}', tenant: 'globex' },
        { sha256: sha(METERED_KEY), tenant: 'metered' },
        { sha256: sha(SINGLE_KEY), tenant: 'single' },
      ],
      admin: { keys: [{ sha256: sha(ADMIN_KEY) }] },
    },
    tenants: {
      acme: { models: ['tiny-llm*', 'iris', 'slow-llm'], price: { per1kPromptTokens: 0.5, per1kCompletionTokens: 1.5, perInference: 0.002 } },
      globex: { models: ['iris', 'tiny-llm'], limits: { requestsPerMinute: 3 } },
      metered: { limits: { tokensPerMinute: 5000 } },
      single: { models: ['iris', 'slow-llm'], limits: { concurrentRequests: 1 } },
    },
  };
}

async function adminScrape(router: RunningRouter): Promise<Scrape> {
  const res = await request(`${router.adminUrl}/metrics`, { headers: bearer(ADMIN_KEY) });
  assert.equal(res.status, 200);
  return new Scrape(res.text);
}

/** The access-log line of one request (by its id), once the router wrote it. */
async function accessLine(router: RunningRouter, requestId: string): Promise<Record<string, unknown>> {
  let line: Record<string, unknown> | undefined;
  await waitFor(() => {
    for (const text of router.output) {
      if (!text.includes(requestId) || !text.includes('"event":"access"')) continue;
      line = JSON.parse(text) as Record<string, unknown>;
      return true;
    }
    return false;
  }, 5000, `the access line of ${requestId}`);
  return line as Record<string, unknown>;
}

/** ModelInfer with its response (initial) metadata. */
function inferWithMetadata(client: GRPCInferenceServiceClient, req: ModelInferRequest, md: grpc.Metadata): Promise<{ metadata: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    let initial = new grpc.Metadata();
    const call = client.ModelInfer(req, md, (err) => (err ? reject(err) : resolve({ metadata: initial })));
    call.on('metadata', (m: grpc.Metadata) => {
      initial = m;
    });
  });
}

/** One ModelStreamInfer call: writes `requests`, half-closes, collects responses or the call's error. */
function streamInfer(client: GRPCInferenceServiceClient, requests: ModelInferRequest[], md: grpc.Metadata): Promise<{ responses: ModelStreamInferResponse__Output[]; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const responses: ModelStreamInferResponse__Output[] = [];
    const call = client.ModelStreamInfer(md);
    call.on('data', (r: ModelStreamInferResponse__Output) => responses.push(r));
    call.on('error', (error: grpc.ServiceError) => resolve({ responses, error }));
    call.on('end', () => resolve({ responses }));
    for (const r of requests) call.write(r);
    call.end();
  });
}

/** Reads an SSE response until `deltas` non-empty content deltas arrived, then leaves (aborts). */
async function leaveAfter(url: string, body: unknown, key: string, deltas: number): Promise<{ requestId: string; seen: number }> {
  const controller = new AbortController();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key) }, body: JSON.stringify(body), signal: controller.signal });
  assert.equal(res.status, 200);
  const requestId = res.headers.get('x-request-id') ?? '';
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let seen = 0;
  while (seen < deltas) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const events = buffer.split('\n\n');
    buffer = events.pop() ?? '';
    for (const event of events) if (/"content":"[^"]/.test(event)) seen++;
  }
  controller.abort();
  await reader.cancel().catch(() => {});
  return { requestId, seen };
}

describe('tenants: API keys, limits and accounting', () => {
  let runtime: SpawnedDevRuntime;
  let slow: SpawnedDevRuntime;
  let router: RunningRouter;
  let grpcClient: GRPCInferenceServiceClient;
  const openai = (key: string) => new OpenAI({ baseURL: `${router.url}/v1`, apiKey: key, maxRetries: 0 });
  const reloads = () => router.output.filter((l) => l.includes('"event":"reloaded"')).length;

  before(async () => {
    runtime = await spawnDevRuntime(['--models', 'iris,tiny-llm', '--token-latency-ms', '1']);
    // 300 ms per token: a client that leaves after two tokens is gone long before a third.
    slow = await spawnDevRuntime(['--models', 'tiny-llm', '--token-latency-ms', '300', '--prefill-ms-per-token', '0']);
    router = await startRouter(tenantsConfig(runtime, slow));
    grpcClient = inferenceClient(router.grpcTarget);
  });

  after(async () => {
    grpcClient?.close();
    await router?.stop();
    await Promise.all([runtime?.stop(), slow?.stop()]);
  });

  test('without a key, or with a wrong one, every listener answers 401 (gRPC UNAUTHENTICATED), HTTP with a Bearer challenge', async () => {
    // OpenAI: the SDK raises AuthenticationError, for generations and the model list alike.
    for (const call of [() => openai(WRONG_KEY).chat.completions.create({ model: 'tiny-llm', messages: MESSAGES }), () => openai(WRONG_KEY).models.list()]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
        assert.equal((err.error as { code?: string }).code, 'SWY_ERR_ADMIT_UNAUTHENTICATED');
        return true;
      });
    }
    const noKey = await postJson(`${router.url}/v1/chat/completions`, { model: 'tiny-llm', messages: MESSAGES });
    assert.equal(noKey.status, 401);
    assert.equal(noKey.headers.get('www-authenticate'), 'Bearer');
    assert.equal(noKey.body.error.type, 'authentication_error');

    // V2 REST: inference, health and metadata; neither header form with a wrong key.
    const attempts: Array<Promise<HttpResult>> = [
      postJson(`${router.url}/v2/models/iris/infer`, IRIS),
      postJson(`${router.url}/v2/models/iris/infer`, IRIS, { 'x-api-key': WRONG_KEY }),
      postJson(`${router.url}/v2/models/iris/infer`, IRIS, bearer(WRONG_KEY)),
      request(`${router.url}/v2/health/ready`),
      request(`${router.url}/v2/models/iris`),
      request(`${router.url}/v2`),
      request(`${router.url}/nowhere`), // even the API surface is not shown without a key
    ];
    for (const res of await Promise.all(attempts)) {
      assert.equal(res.status, 401, res.text);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      assert.equal(typeof res.body.error, 'string');
    }

    // gRPC: inference, server and health RPCs, and a ModelStreamInfer call, which ends at once.
    for (const md of [new grpc.Metadata(), metadata(bearer(WRONG_KEY)), metadata({ 'x-api-key': WRONG_KEY })]) {
      assert.equal((await grpcError(unary(grpcClient, 'ModelInfer', irisGrpc(), {}, md))).code, grpc.status.UNAUTHENTICATED);
    }
    assert.equal((await grpcError(unary(grpcClient, 'ServerLive', {}))).code, grpc.status.UNAUTHENTICATED);
    const health = healthClient(router.grpcTarget);
    try {
      const checked = await new Promise<grpc.ServiceError | null>((resolve) => health.Check({ service: '' }, (err) => resolve(err)));
      assert.equal(checked?.code, grpc.status.UNAUTHENTICATED);
    } finally {
      health.close();
    }
    const stream = await streamInfer(grpcClient, [irisGrpc()], new grpc.Metadata());
    assert.equal(stream.error?.code, grpc.status.UNAUTHENTICATED);
    assert.deepEqual(stream.responses, []);

    // Refused inference requests are counted and logged like any other answer, without a tenant.
    const refused = await postJson(`${router.url}/v2/models/iris/infer`, IRIS, { 'x-request-id': 'no-key-infer' });
    assert.equal(refused.status, 401);
    const line = await accessLine(router, 'no-key-infer');
    assert.equal(line.status, 401);
    assert.equal(line.code, 'SWY_ERR_ADMIT_UNAUTHENTICATED');
    assert.equal(line.tenant, undefined);
  });

  test('a valid key works on every protocol and header form; /v1/models lists only the tenant\'s models', async () => {
    const chat = await openai(ACME_KEY).chat.completions.create({ model: 'tiny-llm', messages: MESSAGES, max_tokens: 4 });
    assert.equal(chat.object, 'chat.completion');
    assert.deepEqual((await openai(ACME_KEY).models.list()).data.map((m) => m.id).sort(), ['slow-llm', 'tiny-llm', 'tiny-llm-vllm']);
    assert.deepEqual((await openai(GLOBEX_KEY).models.list()).data.map((m) => m.id), ['tiny-llm']);

    assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, IRIS, bearer(ACME_KEY))).status, 200);
    assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, IRIS, { 'x-api-key': ACME_KEY })).status, 200);
    assert.equal((await request(`${router.url}/v2/health/ready`, { headers: { 'x-api-key': ACME_KEY } })).status, 200);
    assert.equal((await request(`${router.url}/v2/models/iris`, { headers: bearer(ACME_KEY) })).status, 200);
    assert.equal((await request(`${router.url}/nowhere`, { headers: bearer(ACME_KEY) })).status, 404);

    await unary(grpcClient, 'ModelInfer', irisGrpc(), {}, metadata(bearer(ACME_KEY)));
    await unary(grpcClient, 'ModelInfer', irisGrpc(), {}, metadata({ 'x-api-key': ACME_KEY }));
    assert.deepEqual(await unary(grpcClient, 'ServerLive', {}, {}, metadata(bearer(ACME_KEY))), { live: true });
    const stream = await streamInfer(grpcClient, [{ ...irisGrpc(), id: 'a' }, { ...irisGrpc(), id: 'b' }], metadata(bearer(ACME_KEY)));
    assert.equal(stream.error, undefined);
    assert.deepEqual(stream.responses.map((r) => [r.error_message, r.infer_response?.id]).sort(), [['', 'a'], ['', 'b']]);
  });

  test("a model outside the tenant's list: 403 everywhere; after a reload to unauthorizedModel: not-found, exactly an unknown model's 404", async () => {
    await assert.rejects(openai(ACME_KEY).chat.completions.create({ model: 'secret', messages: MESSAGES }), OpenAI.PermissionDeniedError);
    const rest = await postJson(`${router.url}/v2/models/secret/infer`, IRIS, bearer(ACME_KEY));
    assert.equal(rest.status, 403);
    assert.equal((await request(`${router.url}/v2/models/secret`, { headers: bearer(ACME_KEY) })).status, 403);
    assert.equal((await grpcError(unary(grpcClient, 'ModelInfer', irisGrpc('secret'), {}, metadata(bearer(ACME_KEY))))).code, grpc.status.PERMISSION_DENIED);
    assert.equal((await grpcError(unary(grpcClient, 'ModelMetadata', { name: 'secret' }, {}, metadata(bearer(ACME_KEY))))).code, grpc.status.PERMISSION_DENIED);
    const inStream = await streamInfer(grpcClient, [{ ...irisGrpc('secret'), id: 's' }], metadata(bearer(ACME_KEY)));
    assert.match(inStream.responses[0]?.error_message ?? '', /may not use model 'secret'/);

    const applied = reloads();
    router.rewriteConfig(tenantsConfig(runtime, slow, 'not-found'));
    await waitFor(() => reloads() > applied, 10_000, 'the reload');
    try {
      const hidden = await postJson(`${router.url}/v2/models/secret/infer`, IRIS, bearer(ACME_KEY));
      const unknown = await postJson(`${router.url}/v2/models/nope/infer`, IRIS, bearer(ACME_KEY));
      assert.equal(hidden.status, 404);
      assert.deepEqual(hidden.body, { error: unknown.body.error.replace("'nope'", "'secret'") });
      const openAiHidden = await postJson(`${router.url}/v1/chat/completions`, { model: 'secret', messages: MESSAGES }, bearer(ACME_KEY));
      const openAiUnknown = await postJson(`${router.url}/v1/chat/completions`, { model: 'nope', messages: MESSAGES }, bearer(ACME_KEY));
      assert.equal(openAiHidden.status, 404);
      assert.deepEqual(openAiHidden.body, JSON.parse(JSON.stringify(openAiUnknown.body).replace("'nope'", "'secret'")));
      const grpcHidden = await grpcError(unary(grpcClient, 'ModelInfer', irisGrpc('secret'), {}, metadata(bearer(ACME_KEY))));
      const grpcUnknown = await grpcError(unary(grpcClient, 'ModelInfer', irisGrpc('nope'), {}, metadata(bearer(ACME_KEY))));
      assert.equal(grpcHidden.code, grpc.status.NOT_FOUND);
      assert.equal(grpcHidden.details, grpcUnknown.details.replace("'nope'", "'secret'"));
    } finally {
      const again = reloads();
      router.rewriteConfig(tenantsConfig(runtime, slow));
      await waitFor(() => reloads() > again, 10_000, 'the reload back');
    }
  });

  test('requestsPerMinute: x-ratelimit-* on every answer, then 429 on every protocol (OpenAI SDK RateLimitError, Retry-After, gRPC trailers)', async () => {
    const before = await adminScrape(router);
    // globex: 3 requests per minute, shared by every protocol.
    const first = await openai(GLOBEX_KEY).chat.completions.create({ model: 'tiny-llm', messages: MESSAGES, max_tokens: 2 }).withResponse();
    assert.equal(first.response.headers.get('x-ratelimit-limit-requests'), '3');
    assert.equal(first.response.headers.get('x-ratelimit-remaining-requests'), '2');
    assert.match(first.response.headers.get('x-ratelimit-reset-requests') ?? '', /^(\d+(\.\d+)?s|\d+m\d+(\.\d+)?s|\d+ms)$/);
    assert.equal(first.response.headers.get('x-ratelimit-limit-tokens'), null, 'no token limit, no token headers');
    const second = await postJson(`${router.url}/v2/models/iris/infer`, IRIS, { 'x-api-key': GLOBEX_KEY });
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-ratelimit-remaining-requests'), '1');
    const third = await inferWithMetadata(grpcClient, irisGrpc(), metadata(bearer(GLOBEX_KEY)));
    assert.deepEqual(third.metadata.get('x-ratelimit-remaining-requests'), ['0']);
    assert.deepEqual(third.metadata.get('x-ratelimit-limit-requests'), ['3']);

    await assert.rejects(openai(GLOBEX_KEY).chat.completions.create({ model: 'tiny-llm', messages: MESSAGES }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.RateLimitError, String(err));
      assert.equal((err.error as { code?: string }).code, 'SWY_ERR_ADMIT_RATE_LIMITED');
      const retryAfter = Number(err.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
      assert.ok(Number(err.headers.get('retry-after-ms')) > 0);
      assert.equal(err.headers.get('x-ratelimit-limit-requests'), '3');
      assert.equal(err.headers.get('x-ratelimit-remaining-requests'), '0');
      assert.match(err.headers.get('x-ratelimit-reset-requests') ?? '', /s$/);
      return true;
    });
    const rest = await postJson(`${router.url}/v2/models/iris/infer`, IRIS, bearer(GLOBEX_KEY));
    assert.equal(rest.status, 429);
    assert.ok(Number(rest.headers.get('retry-after')) >= 1);
    assert.equal(rest.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.match(rest.body.error, /requestsPerMinute 3/);
    const refused = await grpcError(unary(grpcClient, 'ModelInfer', irisGrpc(), {}, metadata(bearer(GLOBEX_KEY))));
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.deepEqual(refused.metadata.get('x-ratelimit-limit-requests'), ['3']);
    assert.deepEqual(refused.metadata.get('x-ratelimit-remaining-requests'), ['0']);
    assert.equal(refused.metadata.get('retry-after').length, 1);

    // Another tenant is not affected.
    assert.equal((await postJson(`${router.url}/v2/models/iris/infer`, IRIS, bearer(ACME_KEY))).status, 200);
    const afterScrape = await adminScrape(router);
    assert.equal(afterScrape.value('switchyard_rejected_requests_total', { reason: 'rate_limited' }) - before.value('switchyard_rejected_requests_total', { reason: 'rate_limited' }), 3);
    assert.equal(
      afterScrape.value('switchyard_tenant_requests_total', { tenant: 'globex', status_class: '4xx' }) - before.value('switchyard_tenant_requests_total', { tenant: 'globex', status_class: '4xx' }),
      3,
    );
  });

  test('tokensPerMinute: prompt estimate + max_tokens reserved, settled to the real usage (non-stream, stream, relayed vLLM answer) or, for a client that left, to the estimate + tokens streamed', async () => {
    const LIMIT = 5000;
    const MAX = 20;
    const client = openai(METERED_KEY);
    let used = 0;
    const remaining = (headers: Headers) => Number(headers.get('x-ratelimit-remaining-tokens'));

    // A: non-streaming generation over Triton.
    const a = await client.chat.completions.create({ model: 'tiny-llm', messages: MESSAGES, max_tokens: MAX }).withResponse();
    assert.equal(a.response.headers.get('x-ratelimit-limit-tokens'), String(LIMIT));
    assert.equal(remaining(a.response.headers), LIMIT - used - (PROMPT_ESTIMATE + MAX), 'the reservation');
    used += a.data.usage!.total_tokens;

    // B: a stream with usage; its remaining shows A settled to its usage.
    const b = await client.chat.completions.create({ model: 'tiny-llm', messages: MESSAGES, max_tokens: MAX, stream: true, stream_options: { include_usage: true } }).withResponse();
    assert.equal(remaining(b.response.headers), LIMIT - used - (PROMPT_ESTIMATE + MAX), 'A settled exactly');
    let bUsage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of b.data) if (chunk.usage) bUsage = chunk.usage;
    used += bUsage!.total_tokens;

    // C: relayed from the vLLM-like server (bytes untouched, usage read from them).
    const c = await client.chat.completions.create({ model: 'tiny-llm-vllm', messages: MESSAGES, max_tokens: MAX }).withResponse();
    assert.equal(remaining(c.response.headers), LIMIT - used - (PROMPT_ESTIMATE + MAX), 'the stream B settled exactly');
    used += c.data.usage!.total_tokens;

    // D: a client that leaves after two tokens of a slow stream.
    const d = await leaveAfter(`${router.url}/v1/chat/completions`, { model: 'slow-llm', messages: MESSAGES, max_tokens: 50, stream: true }, METERED_KEY, 2);
    assert.equal(d.seen, 2);
    const left = await accessLine(router, d.requestId);
    assert.equal(left.status, 499);
    used += PROMPT_ESTIMATE + 2;

    // E: shows C (relayed) and D (estimate + streamed) settled.
    const e = await client.chat.completions.create({ model: 'tiny-llm', messages: MESSAGES, max_tokens: MAX }).withResponse();
    assert.equal(remaining(e.response.headers), LIMIT - used - (PROMPT_ESTIMATE + MAX), 'C and D settled exactly');

    // A request that could never fit is a 400 naming max_tokens, not a 429 an SDK would retry.
    const long = [{ role: 'user' as const, content: 'x'.repeat(4000) }]; // 1000 estimated + 4096 > 5000
    await assert.rejects(client.chat.completions.create({ model: 'tiny-llm', messages: long, max_tokens: 4096 }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.equal(err.param, 'max_tokens');
      return true;
    });
  });

  test('concurrentRequests: a second request while one streams is refused; once it ends, admitted', async () => {
    const res = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(SINGLE_KEY) },
      body: JSON.stringify({ model: 'slow-llm', messages: MESSAGES, max_tokens: 5, stream: true }),
    });
    assert.equal(res.status, 200);
    const refused = await postJson(`${router.url}/v2/models/iris/infer`, IRIS, bearer(SINGLE_KEY));
    assert.equal(refused.status, 429);
    assert.match(refused.body.error, /concurrentRequests 1/);
    assert.equal(refused.headers.get('retry-after'), '1');
    await res.text(); // the stream runs to its end
    await waitFor(async () => (await postJson(`${router.url}/v2/models/iris/infer`, IRIS, bearer(SINGLE_KEY))).status === 200, 5000, 'the lease to be released');
  });

  test('admin listener: every route but /healthz needs an admin key', async () => {
    assert.equal((await request(`${router.adminUrl}/healthz`)).status, 200);
    for (const path of ['/metrics', '/readyz', '/clusters', '/mirror']) {
      const open = await request(`${router.adminUrl}${path}`);
      assert.equal(open.status, 401, path);
      assert.equal(open.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await request(`${router.adminUrl}${path}`, { headers: bearer(ACME_KEY) })).status, 401, `${path}: a tenant key is no admin key`);
      assert.notEqual((await request(`${router.adminUrl}${path}`, { headers: bearer(ADMIN_KEY) })).status, 401, path);
    }
    const ready = await request(`${router.adminUrl}/readyz`, { headers: bearer(ADMIN_KEY) });
    assert.equal(ready.body.stateStore, 'memory');
  });

  test('cost accounting: tenant tokens, cost and requests per model in /metrics, tenant and costUsd in the access log', async () => {
    const before = await adminScrape(router);
    const { data, response } = await openai(ACME_KEY).chat.completions.create({ model: 'tiny-llm', messages: MESSAGES, max_tokens: 8 }).withResponse();
    const v2 = await postJson(`${router.url}/v2/models/iris/infer`, IRIS, bearer(ACME_KEY));
    assert.equal(v2.status, 200);
    const usage = data.usage!;
    const cost = Math.round(((usage.prompt_tokens * 0.5) / 1000 + (usage.completion_tokens * 1.5) / 1000 + 0.002) * 1e9) / 1e9;
    const line = await accessLine(router, response.headers.get('x-request-id') ?? '');
    assert.equal(line.tenant, 'acme');
    assert.equal(line.costUsd, cost);
    assert.equal((await accessLine(router, v2.headers.get('x-request-id') ?? '')).costUsd, 0.002);

    const after = await adminScrape(router);
    const d = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);
    const llm = { tenant: 'acme', model: 'tiny-llm' };
    assert.equal(d('switchyard_tenant_tokens_total', { ...llm, kind: 'prompt' }), usage.prompt_tokens);
    assert.equal(d('switchyard_tenant_tokens_total', { ...llm, kind: 'completion' }), usage.completion_tokens);
    assert.ok(Math.abs(d('switchyard_tenant_cost_total', llm) - cost) < 1e-9);
    assert.equal(d('switchyard_tenant_requests_total', { ...llm, status_class: '2xx' }), 1);
    assert.ok(Math.abs(d('switchyard_tenant_cost_total', { tenant: 'acme', model: 'iris' }) - 0.002) < 1e-9);
    // Labels are bounded: configured tenants, and _anonymous for requests without a valid key.
    for (const tenant of after.labelValues('switchyard_tenant_requests_total', 'tenant')) assert.ok(['acme', 'globex', 'metered', 'single', '_anonymous'].includes(tenant), tenant);
  });

  test('no API key ever appears in the router\'s output or in /metrics', async () => {
    const metrics = (await request(`${router.adminUrl}/metrics`, { headers: bearer(ADMIN_KEY) })).text;
    const output = router.output.join('\n');
    assert.ok(output.includes('"event":"access"'), 'the access log was on');
    for (const key of ALL_KEYS) {
      assert.ok(!output.includes(key), `the router's output shows ${key}`);
      assert.ok(!metrics.includes(key), `/metrics shows ${key}`);
    }
  });
});

describe('start-up warnings', () => {
  test('auth off with a client listener beyond loopback: one auth-disabled-exposed line; loopback: none', async () => {
    const runtime = await spawnDevRuntime(['--models', 'iris']);
    try {
      const exposed = await startRouter({ ...devConfig(runtime.grpcTarget), listeners: { http: { host: '0.0.0.0', port: 0 } } });
      const quiet = await startRouter(devConfig(runtime.grpcTarget));
      try {
        const warnings = (r: RunningRouter) => r.output.filter((l) => l.includes('"event":"auth-disabled-exposed"'));
        assert.equal(warnings(exposed).length, 1);
        assert.equal((JSON.parse(warnings(exposed)[0]!) as { level: number }).level, 40);
        assert.equal(warnings(quiet).length, 0);
        assert.equal((await postJson(`${exposed.url}/v2/models/iris/infer`, IRIS)).status, 200, 'auth off: no key needed');
      } finally {
        await Promise.all([exposed.stop(), quiet.stop()]);
      }
    } finally {
      await runtime.stop();
    }
  });
});

describe('limits shared through Redis', () => {
  let redis: RunningRedis;
  let runtime: SpawnedDevRuntime;
  let routers: RunningRouter[] = [];
  const KEY = 'sk-shared-3e7b1d9c5a2f';

  const sharedConfig = (outage: 'failOpen' | 'failClosed') => ({
    ...devConfig(runtime.grpcTarget),
    state: { kind: 'redis', url: redis.url, keyPrefix: 'tenants-test', outage },
    auth: { enabled: true, keys: [{ sha256: sha(KEY), tenant: 'shared' }], admin: { keys: [{ sha256: sha(ADMIN_KEY) }] } },
    tenants: { shared: { limits: { requestsPerMinute: 60, models: { iris: { requestsPerMinute: 1000 } } } } },
  });
  const infer = (r: RunningRouter, model = 'iris') => postJson(`${r.url}/v2/models/${model}/infer`, IRIS, bearer(KEY));
  const stateOf = async (r: RunningRouter) => (await request(`${r.adminUrl}/readyz`, { headers: bearer(ADMIN_KEY) })).body.stateStore as string;

  before(async () => {
    redis = await startRedisServer();
    runtime = await spawnDevRuntime(['--models', 'iris']);
    routers = await Promise.all([startRouter(sharedConfig('failOpen')), startRouter(sharedConfig('failOpen')), startRouter(sharedConfig('failClosed'))]);
    for (const r of routers) await waitFor(async () => (await stateOf(r)) === 'connected', 5000, 'Redis connected');
  });

  after(async () => {
    await Promise.all(routers.map((r) => r.stop()));
    await runtime?.stop();
    await redis?.stop();
  });

  test('two routers on one Redis admit 60 requests per minute between them, not 60 each', async () => {
    const [a, b] = routers as [RunningRouter, RunningRouter];
    const statuses: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => infer(i % 2 === 0 ? a : b)));
      statuses.push(...answers.map((r) => r.status));
    }
    const admitted = statuses.filter((s) => s === 200).length;
    assert.ok(Math.abs(admitted - 60) <= 1, `admitted ${admitted} of 80`);
    assert.equal(statuses.filter((s) => s === 429).length, 80 - admitted);
  });

  test('Redis killed mid-run: failOpen keeps serving, failClosed refuses with 503, limits hold again once Redis is back, nothing crashes', async () => {
    const [a, b, closed] = routers as [RunningRouter, RunningRouter, RunningRouter];
    // A fresh window: the previous test used up `shared`'s 60 for this minute (and the `iris` glob's
    // window holds its entries), so the reload limits a glob no window has seen yet.
    const outageConfig = (outage: 'failOpen' | 'failClosed') => ({
      ...sharedConfig(outage),
      tenants: { shared: { limits: { models: { 'i*': { requestsPerMinute: 5 } } } } },
    });
    const reloaded = (r: RunningRouter) => r.output.filter((l) => l.includes('"event":"reloaded"')).length;
    const counts = routers.map(reloaded);
    a.rewriteConfig(outageConfig('failOpen'));
    b.rewriteConfig(outageConfig('failOpen'));
    closed.rewriteConfig(outageConfig('failClosed'));
    for (const [i, r] of routers.entries()) await waitFor(() => reloaded(r) > (counts[i] ?? 0), 10_000, 'the reload');

    assert.equal((await infer(a)).status, 200);
    await redis.kill();
    for (let i = 0; i < 3; i++) assert.equal((await infer(a)).status, 200, 'failOpen: served from local limits');
    const refused = await infer(closed);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    const scrapeA = new Scrape((await request(`${a.adminUrl}/metrics`, { headers: bearer(ADMIN_KEY) })).text);
    assert.equal(scrapeA.value('switchyard_state_store_up', { kind: 'redis' }), 0);
    assert.ok(scrapeA.value('switchyard_state_fallback_total', { op: 'take' }) >= 3);

    await redis.restart();
    for (const r of routers) await waitFor(async () => (await stateOf(r)) === 'connected', 10_000, 'Redis reconnected');
    // Redis came back empty: 5 per minute again, shared by all three routers.
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await infer(routers[i % 3] as RunningRouter)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429, 429]);
    for (const r of routers) assert.equal(r.process.exitCode, null, 'still running');
  });
});

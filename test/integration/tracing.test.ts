// Traces across real processes, collected by an in-test OTLP/HTTP receiver: the dev runtime joining a
// caller's trace (--otlp-endpoint), the backends carrying an attempt's trace context in gRPC metadata
// and HTTP headers, and the router (telemetry.tracing) and the dev runtime exporting one trace:
// client → router SERVER span → attempt CLIENT span(s) → dev runtime SERVER span, for a streamed
// chat, a retry, a merged batch (linked to its members) and a gRPC call.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { jsonToRaw } from '../../router/adapters/kserve-tensor/index.js';
import { OpenAiHttpBackend } from '../../router/backends/openai-http/openai-http-backend.js';
import { TritonGrpcBackend } from '../../router/backends/triton-grpc/triton-grpc-backend.js';
import type { CallContext } from '../../router/core/call-context.js';
import type { LlmEvent } from '../../router/core/llm.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';
import type { AttemptTelemetry } from '../../router/telemetry/request-telemetry.js';
import { inferenceClient, modelInfer, spawnDevRuntime, grpcError, unary, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';
import { postJson } from '../helpers/http.js';
import { llmRequest, runStream } from '../helpers/llm-stream.js';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';

// Spans leave both processes within 50 ms instead of the SDK's 5 s (children inherit the environment).
process.env.OTEL_BSP_SCHEDULE_DELAY = '50';

const ROUTER_SERVICE = 'switchyard';
const RUNTIME_SERVICE = 'switchyard-dev-runtime';
const IRIS_ROW = [5.1, 3.5, 1.4, 0.2];

interface ClientTrace {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceparent: string;
}

/** A trace the test itself starts, as an instrumented client would. */
function clientTrace(): ClientTrace {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** An attempt as the cluster would hand it to a backend: its inject writes the given context. */
function attemptOf(trace: ClientTrace): AttemptTelemetry {
  return { inject: (set) => set('traceparent', trace.traceparent), end: () => {} };
}

function callContext(attempt?: AttemptTelemetry): CallContext {
  return { requestId: `tracing-${randomBytes(4).toString('hex')}`, deadline: Date.now() + 10_000, signal: new AbortController().signal, ...(attempt && { attempt }) };
}

function irisRequest(rows: number[][] = [IRIS_ROW]): ModelInferRequest {
  return {
    model_name: 'iris',
    id: 'traced',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4] }],
    raw_input_contents: [jsonToRaw('input', 'FP32', [rows.length, 4], rows.flat())],
  };
}

const childOf = (parent: { traceId: string; spanId: string }) => (s: ReceivedSpan) => s.traceId === parent.traceId && s.parentSpanId === parent.spanId;

function only(spans: readonly ReceivedSpan[], predicate: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(predicate);
  assert.equal(found.length, 1, `expected one ${what}, found ${found.length}: ${found.map((s) => `${s.service}/${s.name}`).join(', ')}`);
  return found[0] as ReceivedSpan;
}

/** A host:port nothing listens on. */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

describe("the dev runtime joins the caller's trace (--otlp-endpoint)", () => {
  let receiver: OtlpReceiver;
  let runtime: SpawnedDevRuntime;

  before(async () => {
    receiver = await startOtlpReceiver();
    runtime = await spawnDevRuntime(['--models', 'iris,tiny-llm', '--token-latency-ms', '1', '--otlp-endpoint', receiver.url]);
  });

  after(async () => {
    await runtime?.stop();
    await receiver?.close();
  });

  test('a flag that is not an http(s) URL is refused', async () => {
    await assert.rejects(spawnDevRuntime(['--otlp-endpoint', 'localhost:4318']), /exited before it was ready \(code 2/);
  });

  test('ModelInfer: a SERVER span, child of the traceparent metadata; failures carry their gRPC code', async () => {
    const client = inferenceClient(runtime.grpcTarget);
    try {
      const ok = clientTrace();
      const metadata = new grpc.Metadata();
      metadata.set('traceparent', ok.traceparent);
      await unary(client, 'ModelInfer', irisRequest(), {}, metadata);
      const failed = clientTrace();
      const failedMetadata = new grpc.Metadata();
      failedMetadata.set('traceparent', failed.traceparent);
      await grpcError(unary(client, 'ModelInfer', { ...irisRequest(), model_name: 'nope' }, {}, failedMetadata));
      await modelInfer(client, irisRequest()); // no caller trace: a root span

      const spans = await receiver.waitFor((s) => s.some(childOf(ok)) && s.some(childOf(failed)) && s.some((x) => x.parentSpanId === '' && x.attributes['triton.model_name'] === 'iris'));
      const span = only(spans, childOf(ok), 'runtime span under the client');
      assert.equal(span.service, RUNTIME_SERVICE);
      assert.equal(span.name, 'inference.GRPCInferenceService/ModelInfer');
      assert.equal(span.kind, SPAN_KIND.SERVER);
      assert.deepEqual(span.attributes, {
        'rpc.system': 'grpc',
        'rpc.service': 'inference.GRPCInferenceService',
        'rpc.method': 'ModelInfer',
        'triton.model_name': 'iris',
        'triton.request_id': 'traced',
        'rpc.grpc.status_code': 0,
      });
      const failedSpan = only(spans, childOf(failed), 'runtime span of the failed call');
      assert.equal(failedSpan.attributes['rpc.grpc.status_code'], grpc.status.NOT_FOUND);
      assert.equal(failedSpan.status, 0, 'NOT_FOUND is the caller’s error, not the server’s');
    } finally {
      client.close();
    }
  });

  test("ModelStreamInfer: one span per request, each a child of the stream's traceparent", async () => {
    const client = inferenceClient(runtime.grpcTarget);
    try {
      const trace = clientTrace();
      const metadata = new grpc.Metadata();
      metadata.set('traceparent', trace.traceparent);
      const requests = ['a', 'b'].map((id) => llmRequest(id, `Prompt ${id}`, { stream: true, exclude: true, sampling: { max_tokens: 4 } }));
      const result = await runStream(client, requests, metadata);
      assert.equal(result.error, undefined);
      const spans = (await receiver.waitFor((s) => s.filter(childOf(trace)).length === 2)).filter(childOf(trace));
      assert.deepEqual(spans.map((s) => s.attributes['triton.request_id']).sort(), ['a', 'b']);
      for (const span of spans) {
        assert.equal(span.name, 'inference.GRPCInferenceService/ModelStreamInfer');
        assert.equal(span.attributes['triton.model_name'], 'tiny-llm');
        assert.equal(span.attributes['rpc.grpc.status_code'], 0);
      }
    } finally {
      client.close();
    }
  });

  test('OpenAI port: a SERVER span per completion request, child of the traceparent header', async () => {
    const trace = clientTrace();
    const res = await postJson(`${runtime.openaiUrl}/v1/chat/completions`, { model: 'tiny-llm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }, { traceparent: trace.traceparent });
    assert.equal(res.status, 200);
    const span = only(await receiver.waitFor((s) => s.some(childOf(trace))), childOf(trace), 'OpenAI port span');
    assert.equal(span.name, 'POST /v1/chat/completions');
    assert.equal(span.attributes['http.response.status_code'], 200);
    assert.equal(span.attributes['http.route'], '/v1/chat/completions');
  });
});

describe("backends send the attempt's trace context upstream", () => {
  let receiver: OtlpReceiver;
  let runtime: SpawnedDevRuntime;
  const triton = new TritonGrpcBackend({ maxMessageBytes: 64 * 1024 * 1024 });
  const openai = new OpenAiHttpBackend();

  before(async () => {
    receiver = await startOtlpReceiver();
    runtime = await spawnDevRuntime(['--models', 'iris,tiny-llm', '--token-latency-ms', '1', '--otlp-endpoint', receiver.url]);
  });

  after(async () => {
    triton.close();
    openai.close();
    await runtime?.stop();
    await receiver?.close();
  });

  test('triton-grpc: ModelInfer, ModelStreamInfer and generate carry traceparent metadata; no attempt, no context', async () => {
    const endpoint = { address: runtime.grpcTarget, cluster: 'dev' };
    const unaryTrace = clientTrace();
    await triton.infer(endpoint, irisRequest(), callContext(attemptOf(unaryTrace)));
    await triton.infer(endpoint, { ...irisRequest(), id: 'untraced' }, callContext());

    const streamTrace = clientTrace();
    const responses = await triton.streamInfer(endpoint, llmRequest('s', 'Hello', { stream: true, exclude: true, sampling: { max_tokens: 3 } }), callContext(attemptOf(streamTrace)));
    for await (const _ of responses) {
      // drain to the final response
    }

    const generateTrace = clientTrace();
    const result = await triton.generate(
      endpoint,
      { kind: 'chat', model: 'tiny-llm', messages: [{ role: 'user', content: 'hi' }], sampling: { maxTokens: 3, stop: [] }, stream: true, includeUsage: false, body: {} },
      { model: 'tiny-llm', version: '', profile: 'vllm-backend', chatTemplate: undefined, templateVariables: {} },
      callContext(attemptOf(generateTrace)),
    );
    assert.equal(result.kind, 'events');
    if (result.kind === 'events') for await (const _ of result.events as AsyncIterable<LlmEvent>) void _;

    const spans = await receiver.waitFor((s) => [unaryTrace, streamTrace, generateTrace].every((t) => s.some(childOf(t))) && s.some((x) => x.attributes['triton.request_id'] === 'untraced'));
    assert.equal(only(spans, childOf(unaryTrace), 'ModelInfer span').name, 'inference.GRPCInferenceService/ModelInfer');
    assert.equal(only(spans, childOf(streamTrace), 'streamInfer span').name, 'inference.GRPCInferenceService/ModelStreamInfer');
    assert.equal(only(spans, childOf(generateTrace), 'generate span').name, 'inference.GRPCInferenceService/ModelStreamInfer');
    assert.equal(only(spans, (s) => s.attributes['triton.request_id'] === 'untraced', 'untraced span').parentSpanId, '');
  });

  test('openai-http: the generation request carries the traceparent header', async () => {
    const trace = clientTrace();
    const body = { model: 'tiny-llm', messages: [{ role: 'user', content: 'hi' }] };
    const result = await openai.generate(
      { address: runtime.openaiUrl.replace('http://', ''), cluster: 'dev-vllm' },
      { kind: 'chat', model: 'tiny-llm', messages: body.messages as never, sampling: { maxTokens: 3, stop: [] }, stream: false, includeUsage: false, body },
      { model: 'tiny-llm', version: '', profile: 'vllm-backend', chatTemplate: undefined, templateVariables: {} },
      callContext(attemptOf(trace)),
    );
    assert.equal(result.kind, 'relay');
    if (result.kind === 'relay') for await (const _ of result.body) void _;
    const span = only(await receiver.waitFor((s) => s.some(childOf(trace))), childOf(trace), 'OpenAI port span');
    assert.equal(span.name, 'POST /v1/chat/completions');
  });
});

describe('router and dev runtime export one trace', () => {
  let receiver: OtlpReceiver;
  let runtime: SpawnedDevRuntime;
  let router: RunningRouter;

  before(async () => {
    receiver = await startOtlpReceiver();
    runtime = await spawnDevRuntime(['--models', 'iris,tiny-llm', '--token-latency-ms', '1', '--otlp-endpoint', receiver.url]);
    router = await startRouter({
      clusters: {
        dev: { backend: 'triton-grpc', endpoints: [runtime.grpcTarget] },
        // One endpoint down, kept in rotation (health would take it out only after 5 probes, 10 minutes apart).
        flaky: {
          backend: 'triton-grpc',
          endpoints: [await deadAddress(), runtime.grpcTarget],
          picker: { type: 'round-robin' },
          healthCheck: { intervalMs: 600_000, timeoutMs: 1_000, unhealthyThreshold: 5, healthyThreshold: 1 },
        },
      },
      models: {
        'tiny-llm': { split: [{ cluster: 'dev' }], llm: { profile: 'vllm-backend', defaultMaxTokens: 8 } },
        iris: { split: [{ cluster: 'dev' }] },
        'iris-retry': {
          split: [{ cluster: 'flaky', upstreamModel: 'iris' }],
          retry: { maxRetries: 1, budgetPercent: 100, minRetryConcurrency: 10, backoffBaseMs: 0, backoffMaxMs: 0 },
        },
        'iris-batch': { split: [{ cluster: 'dev', upstreamModel: 'iris' }], batching: { maxBatchSize: 4, maxQueueDelayUs: 300_000 } },
      },
      telemetry: { tracing: { enabled: true, endpoint: receiver.url } },
    });
  });

  after(async () => {
    await router?.stop();
    await runtime?.stop();
    await receiver?.close();
  });

  /** The router's SERVER span of a client trace, its attempt spans, and what the runtime recorded under each. */
  async function routerTrace(trace: ClientTrace, attempts = 1) {
    const spans = await receiver.waitFor((all) => {
      const server = all.find((s) => s.service === ROUTER_SERVICE && childOf(trace)(s));
      if (server === undefined) return false;
      const tries = all.filter((s) => s.kind === SPAN_KIND.CLIENT && childOf(server)(s));
      return tries.length === attempts && tries.some((t) => all.some((s) => s.service === RUNTIME_SERVICE && childOf(t)(s)));
    });
    const server = only(spans, (s) => s.service === ROUTER_SERVICE && childOf(trace)(s), 'router server span');
    const tries = spans.filter((s) => s.kind === SPAN_KIND.CLIENT && childOf(server)(s)).sort((a, b) => Number(a.attributes['switchyard.retry']) - Number(b.attributes['switchyard.retry']));
    const upstream = (attempt: ReceivedSpan) => spans.filter((s) => s.service === RUNTIME_SERVICE && childOf(attempt)(s));
    return { server, attempts: tries, upstream };
  }

  test('(a) a streamed chat: client → router SERVER → attempt CLIENT → runtime ModelStreamInfer, one trace id', async () => {
    const trace = clientTrace();
    const res = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: trace.traceparent },
      body: JSON.stringify({ model: 'tiny-llm', messages: [{ role: 'user', content: 'Say something' }], stream: true }),
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /data: \[DONE\]/);

    const { server, attempts, upstream } = await routerTrace(trace);
    assert.equal(server.kind, SPAN_KIND.SERVER);
    assert.equal(server.traceId, trace.traceId, 'the client’s traceparent is honoured');
    assert.equal(server.attributes['gen_ai.request.model'], 'tiny-llm');
    assert.equal(server.attributes['http.response.status_code'], 200);
    assert.ok(server.events.includes('gen_ai.first_token'), `events: ${server.events.join(', ')}`);
    const [attempt] = attempts;
    assert.ok(attempt);
    assert.equal(attempt.traceId, trace.traceId);
    assert.equal(attempt.attributes['switchyard.retry'], 0);
    assert.equal(attempt.attributes['switchyard.endpoint'], runtime.grpcTarget);
    const [runtimeSpan, ...more] = upstream(attempt);
    assert.equal(more.length, 0);
    assert.equal(runtimeSpan?.name, 'inference.GRPCInferenceService/ModelStreamInfer');
    assert.equal(runtimeSpan?.traceId, trace.traceId);
  });

  test('(b) a retry: two attempt spans under one server span, the runtime span under the second', async () => {
    // Round-robin over [down, up]: of consecutive requests, one starts on the endpoint that is down.
    const traces = [clientTrace(), clientTrace(), clientTrace()];
    for (const trace of traces) {
      const res = await postJson(`${router.url}/v2/models/iris-retry/infer`, { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [IRIS_ROW] }] }, { traceparent: trace.traceparent });
      assert.equal(res.status, 200, res.text);
    }
    const spans = await receiver.waitFor((all) =>
      traces.some((t) => {
        const server = all.find((s) => s.service === ROUTER_SERVICE && childOf(t)(s));
        return server !== undefined && all.filter((s) => s.kind === SPAN_KIND.CLIENT && childOf(server)(s)).length === 2;
      }),
    );
    const retried = traces.find((t) => {
      const server = spans.find((s) => s.service === ROUTER_SERVICE && childOf(t)(s));
      return server !== undefined && spans.filter((s) => s.kind === SPAN_KIND.CLIENT && childOf(server)(s)).length === 2;
    });
    assert.ok(retried);
    const { server, attempts, upstream } = await routerTrace(retried, 2);
    assert.equal(server.traceId, retried.traceId);
    assert.deepEqual(attempts.map((a) => a.attributes['switchyard.retry']), [0, 1]);
    const [down, up] = attempts as [ReceivedSpan, ReceivedSpan];
    assert.equal(down.status, 2, 'the failed attempt is an error');
    assert.notEqual(down.attributes['switchyard.endpoint'], runtime.grpcTarget);
    assert.equal(up.attributes['switchyard.endpoint'], runtime.grpcTarget);
    assert.equal(upstream(down).length, 0);
    assert.equal(upstream(up)[0]?.name, 'inference.GRPCInferenceService/ModelInfer');
    assert.equal(server.status, 0, 'the request itself succeeded');

    // Logs carry the trace id: the access line, and the cluster's retry line written mid-request.
    const logs = router.output.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    const access = logs.find((l) => l.event === 'access' && l.traceId === retried.traceId);
    assert.ok(access, 'an access line with the trace id');
    assert.equal(access.model, 'iris-retry');
    assert.equal(access.status, 200);
    assert.equal(access.attempts, 2);
    assert.ok(logs.some((l) => l.event === 'retry' && l.traceId === retried.traceId), 'the retry line carries the trace id');
  });

  test('(c) a batch: a batch span linked to the member server spans, the runtime span under the batch span', async () => {
    const body = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [IRIS_ROW] }] };
    // The first request lets the batcher read the model's config; the next four wait together.
    assert.equal((await postJson(`${router.url}/v2/models/iris-batch/infer`, body)).status, 200);
    const traces = [clientTrace(), clientTrace(), clientTrace(), clientTrace()];
    const answers = await Promise.all(traces.map((t) => postJson(`${router.url}/v2/models/iris-batch/infer`, body, { traceparent: t.traceparent })));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200]);

    const memberIds = new Set(traces.map((t) => t.traceId));
    const isBatch = (s: ReceivedSpan) => s.service === ROUTER_SERVICE && s.name.startsWith('batch ') && s.links.filter((l) => memberIds.has(l.traceId)).length >= 2;
    const spans = await receiver.waitFor((all) => {
      const batch = all.find(isBatch);
      return batch !== undefined && all.some((s) => s.service === RUNTIME_SERVICE && childOf(batch)(s)) && traces.every((t) => all.some((s) => s.service === ROUTER_SERVICE && childOf(t)(s)));
    });
    const batch = spans.find(isBatch) as ReceivedSpan;
    const members = traces.map((t) => only(spans, (s) => s.service === ROUTER_SERVICE && childOf(t)(s), 'member server span'));
    for (const link of batch.links) {
      assert.ok(members.some((m) => m.traceId === link.traceId && m.spanId === link.spanId), `link ${link.traceId}/${link.spanId} points at a member server span`);
    }
    for (const member of members.filter((m) => batch.links.some((l) => l.spanId === m.spanId))) {
      assert.ok(member.links.some((l) => l.traceId === batch.traceId && l.spanId === batch.spanId), 'the member links back to its batch');
    }
    const runtimeSpan = only(spans, (s) => s.service === RUNTIME_SERVICE && childOf(batch)(s), 'runtime span under the batch');
    assert.equal(runtimeSpan.name, 'inference.GRPCInferenceService/ModelInfer');
    assert.equal(runtimeSpan.traceId, batch.traceId);
  });

  test("(d) gRPC: the client's traceparent metadata is honoured, and a request without one starts its own trace", async () => {
    const client = inferenceClient(router.grpcTarget);
    try {
      const trace = clientTrace();
      const metadata = new grpc.Metadata();
      metadata.set('traceparent', trace.traceparent);
      await unary(client, 'ModelInfer', irisRequest(), {}, metadata);
      const { server, attempts, upstream } = await routerTrace(trace);
      assert.equal(server.traceId, trace.traceId);
      assert.equal(server.attributes['rpc.system'], 'grpc');
      assert.equal(upstream(attempts[0] as ReceivedSpan)[0]?.name, 'inference.GRPCInferenceService/ModelInfer');

      await modelInfer(client, { ...irisRequest(), id: 'no-caller-trace' });
      const isRuntimeSpan = (s: ReceivedSpan) => s.service === RUNTIME_SERVICE && s.attributes['triton.request_id'] === 'no-caller-trace';
      const isRouterRoot = (runtimeSpan: ReceivedSpan) => (s: ReceivedSpan) => s.service === ROUTER_SERVICE && s.kind === SPAN_KIND.SERVER && s.traceId === runtimeSpan.traceId;
      const spans = await receiver.waitFor((all) => all.some((r) => isRuntimeSpan(r) && all.some(isRouterRoot(r))));
      const runtimeSpan = only(spans, isRuntimeSpan, 'runtime span');
      const root = only(spans, isRouterRoot(runtimeSpan), 'router span that started the trace the runtime joined');
      assert.equal(root.parentSpanId, '');
    } finally {
      client.close();
    }
  });
});

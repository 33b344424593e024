// The dev runtime under calibrated profiles, as a real process over loopback: an LLM profile's KV
// cache makes requests queue, visible in vLLM's /metrics (waiting, running, KV usage) and Triton's
// (pending, nv_gpu_utilization), and cancelling frees the cache; a vision profile serves a
// TensorRT ResNet-50 contract over gRPC. Assertions are on outcomes and counts, never durations.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import type { ModelConfigResponse__Output } from '../../router/generated/inference/ModelConfigResponse.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../../router/generated/inference/ModelInferResponse.js';
import type { ModelMetadataResponse__Output } from '../../router/generated/inference/ModelMetadataResponse.js';
import { getProfile, type LlmProfile } from '../../runtimes/dev/profiles/index.js';
import { modelInfer, REPO_ROOT, unary, waitFor, withDevRuntime } from '../helpers/dev-runtime.js';
import { concat, isFinal, llmRequest, output, runStream } from '../helpers/llm-stream.js';
import { scrape, type Scrape } from '../helpers/prometheus-scrape.js';

const A10 = getProfile('llama3-8b-vllm-a10') as LlmProfile;
/** tiny-llm's tokenizer: one token per word. */
const PROMPT_TOKENS = 4000;
const MAX_TOKENS = 90;
const SEQUENCES = 8;

function gauge(s: Scrape, name: string): number {
  return s.value(name, { model_name: 'llama3', engine: '0' });
}

test('llama3-8b-vllm-a10: more long prompts than the KV cache holds queue, /metrics shows it, cancelling frees the cache', async () => {
  await withDevRuntime(['--profile', 'llama3-8b-vllm-a10'], async (rt, client) => {
    // Each sequence holds ceil((4000 + generated) / 16) blocks: 5 fit in the A10's cache, the rest wait.
    const blocks = A10.kvCacheTokens / A10.kvBlockTokens;
    const fit = Math.floor(blocks / Math.ceil((PROMPT_TOKENS + MAX_TOKENS) / A10.kvBlockTokens));
    assert.equal(fit, 5);
    const prompt = Array.from({ length: PROMPT_TOKENS }, () => 'w').join(' ');
    const controllers = Array.from({ length: SEQUENCES }, () => new AbortController());
    const responses = controllers.map((c) =>
      fetch(`${rt.openaiUrl}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama3', prompt, max_tokens: MAX_TOKENS, ignore_eos: true, stream: true }),
        signal: c.signal,
      }).catch(() => undefined),
    );
    try {
      let last: Scrape | undefined;
      await waitFor(async () => {
        last = await scrape(rt.openaiUrl);
        return gauge(last, 'vllm:num_requests_running') === fit && gauge(last, 'vllm:num_requests_waiting') === SEQUENCES - fit;
      }, 15_000, `${fit} running and ${SEQUENCES - fit} waiting`);
      const s = last as Scrape;
      const usage = gauge(s, 'vllm:kv_cache_usage_perc');
      assert.ok(usage > 0.8 && usage <= 1, `KV cache nearly full: ${usage}`);
      assert.equal(s.types.get('vllm:num_requests_waiting'), 'gauge');
      assert.equal(s.types.get('vllm:prompt_tokens_total'), 'counter');
      assert.equal(gauge(s, 'vllm:prompt_tokens_total'), fit * PROMPT_TOKENS);
      // Triton's view of the same queue, and a GPU that is busy.
      const triton = await scrape(rt.httpUrl);
      assert.equal(triton.value('nv_inference_pending_request_count', { model: 'llama3', version: '1' }), SEQUENCES - fit);
      const [uuid] = triton.labelValues('nv_gpu_utilization', 'gpu_uuid');
      assert.match(uuid ?? '', /^GPU-[0-9a-f-]+$/);
      const utilization = triton.value('nv_gpu_utilization', { gpu_uuid: uuid as string });
      assert.ok(utilization > 0 && utilization <= 1, `GPU utilization ${utilization}`);
    } finally {
      for (const c of controllers) c.abort();
      await Promise.all(responses);
    }
    await waitFor(async () => {
      const s = await scrape(rt.openaiUrl);
      return gauge(s, 'vllm:num_requests_running') === 0 && gauge(s, 'vllm:num_requests_waiting') === 0 && gauge(s, 'vllm:kv_cache_usage_perc') === 0;
    }, 10_000, 'cancelled sequences to leave the engine and free the cache');
    // The engine still serves: a short request completes with tiny-llm's deterministic text.
    const res = await fetch(`${rt.openaiUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3', prompt: 'Hello, world!', max_tokens: 5 }),
    });
    const body = (await res.json()) as { choices: { text: string; finish_reason: string }[]; usage: { prompt_tokens: number; completion_tokens: number } };
    assert.equal(res.status, 200);
    assert.equal(body.choices[0]?.finish_reason, 'length');
    assert.deepEqual([body.usage.prompt_tokens, body.usage.completion_tokens], [4, 5]);
    // …and the same text streams over gRPC ModelStreamInfer in the vLLM backend's contract.
    const grpcRequest = { ...llmRequest('g1', 'Hello, world!', { stream: true, exclude: true, sampling: { max_tokens: 5 } }), model_name: 'llama3' };
    const { messages, error } = await runStream(client, [grpcRequest]);
    assert.equal(error, undefined);
    assert.equal(messages.length, 5);
    assert.equal(concat(messages), body.choices[0]?.text);
    assert.equal(output(messages.at(-1)?.infer_response, 'finish_reason'), 'length');
    assert.ok(isFinal(messages.at(-1) as (typeof messages)[number]));
    // The profile's context window (8192), not tiny-llm's 4096: published, and a 5000-token prompt fits.
    const models = (await (await fetch(`${rt.openaiUrl}/v1/models`)).json()) as { data: { id: string; max_model_len: number }[] };
    assert.deepEqual(models.data.map((m) => [m.id, m.max_model_len]), [['llama3', A10.maxModelLen]]);
    const long = await fetch(`${rt.openaiUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3', prompt: Array.from({ length: 5000 }, () => 'w').join(' '), max_tokens: 1 }),
    });
    assert.equal(long.status, 200, await long.clone().text());
    assert.equal(((await long.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens, 5000);
    const tooLong = await fetch(`${rt.openaiUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3', prompt: Array.from({ length: A10.maxModelLen }, () => 'w').join(' '), max_tokens: 1 }),
    });
    assert.equal(tooLong.status, 400);
    assert.match(await tooLong.text(), new RegExp(`maximum context length is ${A10.maxModelLen} tokens`));
    const stats = (await (await fetch(`${rt.httpUrl}/dev/stats`)).json()) as { models: Record<string, { cancelled: number; succeeded: number }> };
    assert.equal(stats.models.llama3?.cancelled, SEQUENCES);
    assert.equal(stats.models.llama3?.succeeded, 3);
  });
});

const image = (seed: number): number[] => Array.from({ length: 3 * 224 * 224 }, (_, i) => ((i * 7919 + seed * 104729) % 1000) / 1000);

function resnetCall(images: number[][]): ModelInferRequest {
  const pixels = Float32Array.from(images.flat());
  return {
    model_name: 'resnet50',
    id: 'img',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [images.length, 3, 224, 224] }],
    raw_input_contents: [Buffer.from(pixels.buffer)],
  };
}

function logits(res: ModelInferResponse__Output): Float32Array {
  const raw = res.raw_output_contents[0] as Buffer;
  return new Float32Array(Uint8Array.from(raw).buffer);
}

test('resnet50-trt-fp16-a10: a TensorRT ResNet-50 contract over gRPC, deterministic logits, dynamic batching config', async () => {
  await withDevRuntime(['--profile', 'resnet50-trt-fp16-a10'], async (rt, client) => {
    const meta = await unary<'ModelMetadata', object, ModelMetadataResponse__Output>(client, 'ModelMetadata', { name: 'resnet50' });
    assert.equal(meta.platform, 'tensorrt_plan');
    assert.deepEqual(meta.inputs.map((t) => [t.name, t.datatype, t.shape]), [['input', 'FP32', ['-1', '3', '224', '224']]]);
    assert.deepEqual(meta.outputs.map((t) => [t.name, t.datatype, t.shape]), [['output', 'FP32', ['-1', '1000']]]);
    const { config } = await unary<'ModelConfig', object, ModelConfigResponse__Output>(client, 'ModelConfig', { name: 'resnet50' });
    assert.equal(config?.max_batch_size, 128);
    assert.equal(config?.instance_group[0]?.count, 2);
    assert.equal(config?.instance_group[0]?.kind, 'KIND_GPU');
    assert.ok(config?.dynamic_batching !== null && config?.dynamic_batching !== undefined);

    const one = (await modelInfer(client, resnetCall([image(1)]))) as ModelInferResponse__Output;
    assert.deepEqual(one.outputs.map((o) => [o.name, o.datatype, o.shape]), [['output', 'FP32', ['1', '1000']]]);
    const two = (await modelInfer(client, resnetCall([image(2), image(1)]))) as ModelInferResponse__Output;
    assert.deepEqual(two.outputs[0]?.shape, ['2', '1000']);
    const a = logits(one);
    const b = logits(two);
    assert.equal(a.length, 1000);
    assert.ok(a.every(Number.isFinite));
    assert.deepEqual(Array.from(b.subarray(1000)), Array.from(a), 'the same image gets the same logits, whatever it is batched with');
    assert.notDeepEqual(Array.from(b.subarray(0, 1000)), Array.from(a), 'a different image gets different logits');

    // Triton validates the contract: a wrong shape is refused.
    const bad = resnetCall([image(1)]);
    (bad.inputs as { shape: number[] }[])[0]!.shape = [1, 3, 224, 223];
    await assert.rejects(modelInfer(client, bad), /Expected \[-1,3,224,224\]|unexpected shape|shape/);

    const triton = await scrape(rt.httpUrl);
    assert.equal(triton.value('nv_inference_request_success', { model: 'resnet50', version: '1' }), 2);
    assert.equal(triton.value('nv_inference_count', { model: 'resnet50', version: '1' }), 3);
    assert.equal(triton.labelValues('nv_gpu_utilization', 'gpu_uuid').length, 1);
  });
});

test('an unknown --profile exits 2 listing the profiles; llama3 without an LLM profile fails to start', async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'runtimes/dev/main.ts', '--grpc-port', '0', '--http-port', '0', '--openai-port', '0', ...args], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('close', (code) => resolve({ code, stderr }));
    });
  const unknown = await run(['--profile', 'bert-a10']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--profile must be one of resnet50-trt-fp16-a10, resnet50-trt-fp16-a100, llama3-8b-vllm-a10, llama3-8b-vllm-a100/);
  const clash = await run(['--profile', 'llama3-8b-vllm-a100', '--token-latency-ms', '5']);
  assert.equal(clash.code, 2);
  const mismatch = await run(['--models', 'llama3']);
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.stderr, /model 'llama3' needs an LLM profile/);
});

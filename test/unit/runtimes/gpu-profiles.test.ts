// The calibrated profiles: exact names, cost functions that pass through the cited points and
// never decrease, and the KV-cache arithmetic of vLLM's memory accounting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getProfile, PROFILE_NAMES, PROFILES, type LlmProfile, type VisionProfile } from '../../../runtimes/dev/profiles/index.js';
import {
  A100_DECODE_POINTS, FIXED_GPU_MEMORY_GIB, KV_BLOCK_TOKENS, KV_BYTES_PER_TOKEN, kvCacheBlocks,
} from '../../../runtimes/dev/profiles/llama3-8b-vllm.js';
import { piecewiseLinear } from '../../../runtimes/dev/profiles/piecewise-linear.js';
import { A10_LATENCY_MS, A100_LATENCY_MS, A40_LATENCY_MS, A40_TO_A10 } from '../../../runtimes/dev/profiles/resnet50-trt-fp16.js';

const vision = (name: string): VisionProfile => getProfile(name) as VisionProfile;
const llm = (name: string): LlmProfile => getProfile(name) as LlmProfile;
const close = (actual: number, expected: number, tolerance: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

test('the four profiles the simulator relies on exist under their exact names, with their served model', () => {
  assert.deepEqual([...PROFILE_NAMES].sort(), ['llama3-8b-vllm-a10', 'llama3-8b-vllm-a100', 'resnet50-trt-fp16-a10', 'resnet50-trt-fp16-a100']);
  for (const p of PROFILES) {
    assert.equal(getProfile(p.name), p);
    assert.equal(p.model, p.kind === 'vision' ? 'resnet50' : 'llama3');
    assert.ok(p.sources.length > 0 && p.sources.every((s) => s.url.startsWith('https://') && s.used !== ''), `${p.name} cites its sources`);
  }
  assert.equal(getProfile('resnet50-trt-fp16-h100'), undefined);
});

test('piecewiseLinear: through the points, linear between, last slope beyond, first value below', () => {
  const f = piecewiseLinear([[1, 2], [3, 6], [5, 7]]);
  assert.equal(f(1), 2);
  assert.equal(f(2), 4);
  assert.equal(f(3), 6);
  assert.equal(f(4), 6.5);
  assert.equal(f(7), 8);
  assert.equal(f(0), 2);
  assert.throws(() => piecewiseLinear([[1, 2], [1, 3]]), /must rise/);
  assert.throws(() => piecewiseLinear([[1, 5], [2, 3]]), /must rise/);
});

test('ResNet-50 A100: one execution takes the published DGX A100 latency at every measured batch size', () => {
  const p = vision('resnet50-trt-fp16-a100');
  for (const [batch, ms] of A100_LATENCY_MS) close(p.executionMs(batch, 1), ms, 1e-9, `batch ${batch}`);
  assert.equal(p.gpuVariant, 'A100-SXM4-80GB');
  assert.equal(p.maxBatchSize, 128);
});

test('ResNet-50 A10: the A40 latencies scaled by SMs × clock (84 × 1740) / (72 × 1695)', () => {
  const p = vision('resnet50-trt-fp16-a10');
  close(A40_TO_A10, 1.198, 0.001, 'scale');
  for (const [i, [batch, a40]] of A40_LATENCY_MS.entries()) {
    close(p.executionMs(batch, 1), a40 * A40_TO_A10, 0.001, `batch ${batch}`);
    assert.equal((A10_LATENCY_MS[i] as readonly number[])[0], batch);
  }
});

test('ResNet-50: latency never falls with batch size or with executions sharing the GPU, and sharing has a bounded gain', () => {
  for (const p of PROFILES.filter((x): x is VisionProfile => x.kind === 'vision')) {
    for (let k = 1; k <= 4; k++) {
      let last = 0;
      for (let b = 1; b <= p.maxBatchSize; b++) {
        const ms = p.executionMs(b, k);
        assert.ok(ms >= last, `${p.name}: T(${b}, ${k}) = ${ms} < T(${b - 1}, ${k}) = ${last}`);
        last = ms;
        if (k > 1) {
          const alone = p.executionMs(b, 1);
          assert.ok(ms >= p.executionMs(b, k - 1), `${p.name}: more sharing cannot be faster`);
          // k executions finish k × b rows no faster than 1.5× (k = 2) of one alone, nor slower than serial.
          assert.ok(ms <= alone * k + 1e-9, `${p.name}: sharing is never worse than running one after another`);
          assert.ok(ms >= (alone * k) / (1 + 0.5 * (k - 1)) - 1e-9, `${p.name}: the overlap gain is capped`);
        }
      }
    }
  }
});

test('Llama-3-8B KV cache: 128 KiB per token, 16-token blocks, vLLM\'s accounting reproduces the logged 24 GB card', () => {
  assert.equal(KV_BYTES_PER_TOKEN, 128 * 1024);
  assert.equal(KV_BLOCK_TOKENS, 16);
  // vLLM issue #10517: 23.58 GiB total at utilisation 0.90 → kv 3.81 GiB, 1952 blocks.
  close(kvCacheBlocks(23.58), 1952, 2, 'blocks on the logged card');
  close(FIXED_GPU_MEMORY_GIB, 17.41, 1e-9, 'fixed memory');
  for (const p of PROFILES.filter((x): x is LlmProfile => x.kind === 'llm')) {
    assert.equal(p.kvCacheTokens % p.kvBlockTokens, 0, `${p.name}: whole blocks`);
    assert.ok(p.kvCacheTokens >= p.maxModelLen, `${p.name}: one full-length sequence fits`);
    assert.equal(p.maxNumSeqs, 256);
    assert.equal(p.maxModelLen, 8192);
  }
  const a10 = llm('llama3-8b-vllm-a10');
  const a100 = llm('llama3-8b-vllm-a100');
  // (0.9 × 22.49 − 17.41) GiB / 2 MiB per block = 1448 blocks; (0.9 × 39.39 − 17.41) GiB → 9236.
  assert.equal(a10.kvCacheTokens, 1448 * 16);
  assert.equal(a100.kvCacheTokens, 9236 * 16);
  assert.equal(a100.gpuVariant, 'A100-SXM4-40GB');
});

test('Llama-3-8B decode: through the measured A100 points (75 tok/s alone, ×6.6 at 8), A10 slower by 1555/600, monotonic', () => {
  const a100 = llm('llama3-8b-vllm-a100');
  const a10 = llm('llama3-8b-vllm-a10');
  close(a100.decodeStepMs(1), 1000 / 75, 1e-9, 'A100 one sequence');
  close(a100.decodeStepMs(8), 8000 / (6.6 * 75), 1e-9, 'A100 eight sequences');
  close(A100_DECODE_POINTS.one, 13.33, 0.01, 'A100 floor');
  for (const r of [1, 8, 64, 256]) close(a10.decodeStepMs(r) / a100.decodeStepMs(r), 1555 / 600, 1e-9, `A10/A100 at ${r}`);
  for (const p of [a10, a100]) {
    for (let r = 2; r <= p.maxNumSeqs; r++) assert.ok(p.decodeStepMs(r) > p.decodeStepMs(r - 1), `${p.name}: decode step grows with running`);
    // Continuous batching pays: aggregate tokens/s rises with running sequences.
    assert.ok(64 / p.decodeStepMs(64) > 8 / p.decodeStepMs(8));
  }
});

test('Llama-3-8B prefill: linear in prompt tokens, 2 × 8.03e9 FLOP per token at half of the dense tensor peak', () => {
  const a100 = llm('llama3-8b-vllm-a100');
  const a10 = llm('llama3-8b-vllm-a10');
  close(a100.prefillMs(1000), (1000 * 2 * 8.03e9) / (312e12 * 0.5) * 1000, 1e-9, 'A100');
  close(a10.prefillMs(1000), (1000 * 2 * 8.03e9) / (125e12 * 0.5) * 1000, 1e-9, 'A10');
  assert.equal(a10.prefillMs(0), 0);
  assert.ok(a10.prefillMs(2048) === 2 * a10.prefillMs(1024));
});

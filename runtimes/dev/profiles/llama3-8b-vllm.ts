// Llama-3-8B (bf16) behind vLLM on one A10 and one A100: prefill time per prompt token, decode
// step time as a function of running sequences (continuous batching), and the KV-cache capacity
// that bounds how many sequences run at once. Sources and derivations are in docs/capacity.md
// ("llama3-8b-vllm-*"); every figure below is either quoted, derived (the formula is here), or
// marked ASSUMPTION.
//
// KV cache per token: 32 layers × 8 KV heads × 128 head dim × 2 (K and V) × 2 bytes = 128 KiB
// (Meta-Llama-3-8B config.json). vLLM sizes the cache as
//   kv = gpu_memory_utilization × total − (weights + peak activations + non-torch memory)
// and reports it in 16-token blocks. vLLM issue #10517 logs exactly that accounting for
// Llama-3.1-8B-Instruct on a 24 GB card at utilization 0.90: total 23.58 GiB, peak torch memory
// 17.06 GiB (weights 14.99 GiB + activations), non-torch 0.35 GiB → kv 3.81 GiB, 1952 blocks.
// We reuse its 17.41 GiB of fixed use and change only the total memory of the board.
//
// Decode: one step reads all weights once (memory-bound) plus each sequence's KV cache. The A100
// profile is the A100-SXM4-40GB measured by a vLLM concurrency sweep (1024 prompt / 128 output
// tokens): ~75 tok/s at concurrency 1 (13.3 ms per step) and ×6.6 throughput at concurrency 8
// (8 / (6.6 × 75) s = 16.2 ms per step). A line through these two points gives the floor and the
// per-sequence term. The A10 has no such measurement: its step is the A100's × 1555/600, the
// ratio of memory bandwidths (DERIVED: decode is memory-bound on both boards).
//
// Prefill: compute-bound, 2 × 8.03e9 FLOP per prompt token at 50% of dense tensor peak
// (ASSUMPTION: MFU 0.5) — A100 312 TFLOPS bf16, A10 125 TFLOPS fp16.
import type { LlmProfile, ProfileSource } from './gpu-profile.js';

const GIB = 1024 ** 3;

/** 32 layers × 8 KV heads × 128 dims × (K, V) × 2 bytes (bf16). */
export const KV_BYTES_PER_TOKEN = 32 * 8 * 128 * 2 * 2;

/** vLLM's default --block-size on CUDA. */
export const KV_BLOCK_TOKENS = 16;

/** vLLM's default --gpu-memory-utilization. */
export const GPU_MEMORY_UTILIZATION = 0.9;

/** Weights + peak activations (17.06 GiB) + non-torch memory (0.35 GiB), vLLM issue #10517. */
export const FIXED_GPU_MEMORY_GIB = 17.06 + 0.35;

/** Parameters of Llama-3-8B (8.03 B); a forward pass costs 2 FLOP per parameter per token. */
export const PARAMETERS = 8.03e9;

/** Prefill model FLOPs utilisation (ASSUMPTION, see the header). */
export const PREFILL_MFU = 0.5;

/** Blocks of the KV cache on a board with `totalGiB` of memory, vLLM's accounting. */
export function kvCacheBlocks(totalGiB: number): number {
  const kvBytes = (GPU_MEMORY_UTILIZATION * totalGiB - FIXED_GPU_MEMORY_GIB) * GIB;
  return Math.max(0, Math.floor(kvBytes / (KV_BYTES_PER_TOKEN * KV_BLOCK_TOKENS)));
}

/** A100-SXM4-40GB, vLLM sweep: ms per decode step at concurrency 1 (75 tok/s) and 8 (×6.6). */
export const A100_DECODE_POINTS = { one: 1000 / 75, eight: 8000 / (6.6 * 75) } as const;

/** Per-sequence term of the A100 line through the two measured points. */
const A100_PER_SEQUENCE_MS = (A100_DECODE_POINTS.eight - A100_DECODE_POINTS.one) / 7;

/** A100-SXM4-40GB 1555 GB/s over A10 600 GB/s. */
export const A10_DECODE_SLOWDOWN = 1555 / 600;

/** Memory the boards expose to CUDA (ASSUMPTION, see docs/capacity.md): A10 with ECC 23,028 MiB; A100 40GB 39.39 GiB. */
export const A10_TOTAL_GIB = 23_028 / 1024;
export const A100_40GB_TOTAL_GIB = 39.39;

/** vLLM's default --max-num-seqs. */
const MAX_NUM_SEQS = 256;

/** Llama-3-8B's context window (max_position_embeddings). */
const MAX_MODEL_LEN = 8192;

const LLAMA3_CONFIG: ProfileSource = {
  id: 'llama3-8b-config',
  title: 'meta-llama/Meta-Llama-3-8B config.json (32 layers, 32 heads, 8 KV heads, hidden 4096, max_position_embeddings 8192)',
  url: 'https://huggingface.co/meta-llama/Meta-Llama-3-8B/blob/main/config.json',
  used: 'KV bytes per token = 32 × 8 × 128 × 2 × 2 = 128 KiB; max_model_len 8192.',
};

const VLLM_MEMORY_LOG: ProfileSource = {
  id: 'vllm-issue-10517',
  title: "vLLM issue #10517 — [Usage]: What's the relationship between KV cache and MAX_SEQUENCE_LENGTH (memory profiling log, Llama-3.1-8B-Instruct, 24 GB GPU)",
  url: 'https://github.com/vllm-project/vllm/issues/10517',
  used: 'Weights 14.99 GiB, peak torch memory 17.06 GiB, non-torch 0.35 GiB at gpu_memory_utilization 0.90 → 17.41 GiB fixed; the KV size formula checked against its 3.81 GiB / 1952 blocks.',
};

const VLLM_DEFAULTS: ProfileSource = {
  id: 'vllm-engine-args',
  title: 'vLLM documentation — Engine Arguments (--block-size 16, --gpu-memory-utilization 0.9, --max-num-seqs 256)',
  url: 'https://docs.vllm.ai/en/latest/configuration/engine_args.html',
  used: 'kvBlockTokens 16, utilisation 0.9, maxNumSeqs 256.',
};

const A100_SWEEP: ProfileSource = {
  id: 'vllm-a100-sweep',
  title: 'John Musgrave — vLLM throughput-latency sweep on NVIDIA A100 (Llama-3.1-8B-Instruct, A100 40GB, vLLM bench serve, 1024 in / 128 out)',
  url: 'https://johnmusgrave.com/p/vllm-throughput-latency-sweep-on',
  used: '~75 tok/s at concurrency 1 (13.3 ms/step, "77% of the memory-bandwidth ceiling"); ×6.6 throughput at concurrency 8 (16.2 ms/step): the two points of decodeStepMs.',
};

const A100_SPECS: ProfileSource = {
  id: 'a100-specs',
  title: 'TechPowerUp GPU database — NVIDIA A100 SXM4 40 GB (108 SMs, 1410 MHz boost, 1,555 GB/s); dense bf16 tensor peak 312 TFLOPS per NVIDIA\'s A100 datasheet',
  url: 'https://www.techpowerup.com/gpu-specs/a100-sxm4-40-gb.c3506',
  used: 'Memory bandwidth 1555 GB/s (the A10 decode ratio) and dense bf16 tensor peak 312 TFLOPS (prefill).',
};

const A10_SPECS: ProfileSource = {
  id: 'a10-product-page',
  title: 'NVIDIA A10 Tensor Core GPU product page (24 GB GDDR6, 600 GB/s, fp16/bf16 tensor 125 TFLOPS dense); bandwidth also in Baseten, "NVIDIA A10 vs A10G for ML model inference"',
  url: 'https://www.nvidia.com/en-us/data-center/products/a10-gpu/',
  used: 'A10 memory bandwidth 600 GB/s (decode ratio 1555/600) and fp16 tensor peak 125 TFLOPS (prefill).',
};

function prefill(peakTflops: number): (promptTokens: number) => number {
  const msPerToken = (2 * PARAMETERS) / (peakTflops * 1e12 * PREFILL_MFU) * 1000;
  return (promptTokens) => Math.max(0, promptTokens) * msPerToken;
}

function decode(oneMs: number, perSequenceMs: number): (running: number) => number {
  return (running) => oneMs + perSequenceMs * (Math.max(1, running) - 1);
}

function llm(gpu: 'A10' | 'A100', fields: Omit<LlmProfile, 'kind' | 'gpu' | 'model' | 'kvBlockTokens' | 'maxNumSeqs' | 'maxModelLen'>): LlmProfile {
  return Object.freeze({ kind: 'llm', gpu, model: 'llama3', kvBlockTokens: KV_BLOCK_TOKENS, maxNumSeqs: MAX_NUM_SEQS, maxModelLen: MAX_MODEL_LEN, ...fields });
}

export const LLAMA3_8B_VLLM_A100 = llm('A100', {
  name: 'llama3-8b-vllm-a100',
  gpuVariant: 'A100-SXM4-40GB',
  description: 'Llama-3-8B bf16 on vLLM, one A100 40GB SXM4: measured decode, KV cache from vLLM\'s memory accounting',
  kvCacheTokens: kvCacheBlocks(A100_40GB_TOTAL_GIB) * KV_BLOCK_TOKENS,
  prefillMs: prefill(312),
  decodeStepMs: decode(A100_DECODE_POINTS.one, A100_PER_SEQUENCE_MS),
  sources: [A100_SWEEP, A100_SPECS, LLAMA3_CONFIG, VLLM_MEMORY_LOG, VLLM_DEFAULTS],
});

export const LLAMA3_8B_VLLM_A10 = llm('A10', {
  name: 'llama3-8b-vllm-a10',
  gpuVariant: 'A10-24GB-PCIe',
  description: 'Llama-3-8B bf16 on vLLM, one A10 24GB: decode scaled from the A100 by memory bandwidth, KV cache from vLLM\'s memory accounting',
  kvCacheTokens: kvCacheBlocks(A10_TOTAL_GIB) * KV_BLOCK_TOKENS,
  prefillMs: prefill(125),
  decodeStepMs: decode(A100_DECODE_POINTS.one * A10_DECODE_SLOWDOWN, A100_PER_SEQUENCE_MS * A10_DECODE_SLOWDOWN),
  sources: [A100_SWEEP, A10_SPECS, A100_SPECS, LLAMA3_CONFIG, VLLM_MEMORY_LOG, VLLM_DEFAULTS],
});

// ResNet-50 v1.5, TensorRT FP16, behind Triton, on an A10 and an A100: execution time as a
// function of batch size, and of how many executions share the GPU (instance_group count > 1).
// Sources and the derivation are in docs/capacity.md ("resnet50-trt-fp16-*"); the short version:
//
// - A100: NVIDIA DeepLearningExamples, "Deploying the ResNet50 v1.5 model on Triton Inference
//   Server", offline scenario, "NVIDIA DGX A100 (1x A100 80GB), ONNX Runtime TensorRT with FP16",
//   max batch 128, 1 instance: the "Avg Latency" column (ms) per client batch size, used as is.
//   These are perf_analyzer latencies, so they include the client and transport share (well under
//   1 ms on loopback); for a router that is the latency a caller sees, which is what we want.
// - A10: no NVIDIA table for the A10 was found. The same README measures the A40, which has the
//   A10's GA102 chip with more SMs and a higher clock (84 SMs at 1740 MHz vs 72 SMs at 1695 MHz,
//   from GPU database entries for the two boards). A10 latency = A40 latency × (84 × 1740) / (72 × 1695) =
//   × 1.198: the compute-bound scaling. DERIVED — at batch 1, where fixed overheads dominate,
//   this overstates the A10's latency slightly.
// - Concurrency (instances): Triton's optimization guide measures a second instance raising an
//   un-batched model's throughput ×1.5 (73 → 110 infer/s) by overlapping copies with compute, and
//   says two instances "typically" help. We model k executions sharing the GPU as each taking
//   T(b) × k / gain, with gain = min(1 + 0.5 × (k − 1), k × T(b) / T(k × b)): at most +50% per
//   extra instance (ASSUMPTION generalising the guide's one measurement), and never more than a
//   single merged batch of k × b rows would achieve (a GPU that is already busy with a large batch
//   gains nothing from a second one, so per-execution latency grows ~k).
import type { VisionProfile } from './gpu-profile.js';
import { piecewiseLinear, type Point } from './piecewise-linear.js';

const DLE_TRITON_RESNET50 = {
  id: 'nvidia-dle-triton-resnet50',
  title: 'NVIDIA DeepLearningExamples — Deploying the ResNet50 v1.5 model on Triton Inference Server (Performance, offline scenario)',
  url: 'https://github.com/NVIDIA/DeepLearningExamples/blob/master/PyTorch/Classification/ConvNets/triton/resnet50/README.md',
};

const TRITON_OPTIMIZATION = {
  id: 'triton-optimization-guide',
  title: 'Triton Inference Server user guide — Optimization (Model Instances)',
  url: 'https://github.com/triton-inference-server/server/blob/main/docs/user_guide/optimization.md',
  used: 'A second model instance raises throughput ×1.5 (73 → 110 infer/s, inception_graphdef, no batching): the per-extra-instance gain cap of 0.5; "typically two instances" → instances: 2.',
};

const A40_SPECS = {
  id: 'a40-specs',
  title: 'NVIDIA A40 PCIe specifications (GA102: 84 SMs, 1740 MHz boost, 695.8 GB/s), GPU database entry',
  url: 'https://gpu.spicedreamphone.com/en/gpu/nvidia/a40-pcie',
  used: 'SM count and boost clock of the A40, numerator of the A40 → A10 factor.',
};

const A10_SPECS = {
  id: 'a10-specs',
  title: 'NVIDIA A10 PCIe specifications (GA102: 72 SMs, 1695 MHz boost, 600.2 GB/s), GPU database comparison',
  url: 'https://sysrqmts.com/ru/gpus/compare/nvidia-a10-pcie-vs-nvidia-quadro-rtx-4000',
  used: 'SM count and boost clock of the A10, denominator of the A40 → A10 factor (84 × 1740) / (72 × 1695) = 1.198.',
};

/** DGX A100 (1x A100 80GB SXM4), ONNX Runtime + TensorRT FP16: (batch, average latency ms). */
export const A100_LATENCY_MS: readonly Point[] = [
  [1, 2.128], [2, 2.194], [4, 2.759], [8, 3.895], [16, 5.793], [32, 11.193], [64, 25.244], [128, 48.086],
];

/** A40, same table: (batch, average latency ms); the A10 figures are derived from these. */
export const A40_LATENCY_MS: readonly Point[] = [
  [1, 2.031], [2, 2.459], [4, 3.652], [8, 5.078], [16, 9.678], [32, 15.451], [64, 36.147], [128, 67.889],
];

/** (84 SMs × 1740 MHz) / (72 SMs × 1695 MHz): A40 → A10, compute-bound scaling. */
export const A40_TO_A10 = (84 * 1740) / (72 * 1695);

export const A10_LATENCY_MS: readonly Point[] = A40_LATENCY_MS.map(([b, ms]) => [b, Math.round(ms * A40_TO_A10 * 1000) / 1000] as const);

/** Throughput gained per extra execution sharing the GPU, at most (see the header). */
export const INSTANCE_OVERLAP_GAIN = 0.5;

/** The source's max_batch_size. */
const MAX_BATCH_SIZE = 128;

function executionMs(points: readonly Point[]): (batch: number, concurrent: number) => number {
  const single = piecewiseLinear(points);
  return (batch, concurrent) => {
    const b = Math.max(1, batch);
    const k = Math.max(1, Math.floor(concurrent));
    const alone = single(b);
    if (k === 1) return alone;
    const gain = Math.min(1 + INSTANCE_OVERLAP_GAIN * (k - 1), (k * alone) / single(k * b));
    return (alone * k) / Math.max(1, gain);
  };
}

export const RESNET50_TRT_FP16_A100: VisionProfile = Object.freeze({
  kind: 'vision',
  name: 'resnet50-trt-fp16-a100',
  gpu: 'A100',
  gpuVariant: 'A100-SXM4-80GB',
  model: 'resnet50',
  description: 'ResNet-50 v1.5, TensorRT FP16, Triton dynamic batching, 2 instances on one A100 80GB SXM4 (DGX A100)',
  maxBatchSize: MAX_BATCH_SIZE,
  instances: 2,
  executionMs: executionMs(A100_LATENCY_MS),
  sources: [
    { ...DLE_TRITON_RESNET50, used: 'Offline table "NVIDIA DGX A100 (1x A100 80GB), ONNX Runtime TensorRT with FP16": Avg Latency for batch 1…128, the points of T(b); max batch 128.' },
    TRITON_OPTIMIZATION,
  ],
});

export const RESNET50_TRT_FP16_A10: VisionProfile = Object.freeze({
  kind: 'vision',
  name: 'resnet50-trt-fp16-a10',
  gpu: 'A10',
  gpuVariant: 'A10-24GB-PCIe',
  model: 'resnet50',
  description: 'ResNet-50 v1.5, TensorRT FP16, Triton dynamic batching, 2 instances on one A10 24GB (derived from the A40 measurements)',
  maxBatchSize: MAX_BATCH_SIZE,
  instances: 2,
  executionMs: executionMs(A10_LATENCY_MS),
  sources: [
    { ...DLE_TRITON_RESNET50, used: 'Offline table "NVIDIA A40, ONNX Runtime TensorRT with FP16": Avg Latency for batch 1…128, scaled ×1.198 (see a40-specs, a10-specs) to give T(b) on the A10.' },
    A40_SPECS,
    A10_SPECS,
    TRITON_OPTIMIZATION,
  ],
});

// The served `resnet50` model under a vision profile: the tensor contract of a TensorRT ResNet-50
// plan in Triton (platform tensorrt_plan, `input` FP32 [3,224,224] NCHW → `output` FP32 [1000]
// logits, the names torchvision → ONNX → trtexec exports and Triton's TensorRT examples use),
// max_batch_size and instance count from the profile, dynamic batching on (queued requests merge
// up to max_batch_size, as a Triton config for a TRT ResNet has it). An execution lasts
// profile.executionMs(rows, executions now sharing the GPU) and keeps the GPU busy meter up.
// Outputs are deterministic and cheap: a fixed random linear map of per-channel means sampled
// from the image — not a classifier, but the same image always gets the same logits.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RawTensor } from '../../../../router/adapters/kserve-tensor/index.js';
import type { GpuBusyMeter } from '../../engine/gpu-busy-meter.js';
import { executeOnInstance } from '../../instance-execution.js';
import { InstanceScheduler } from '../../instance-scheduler.js';
import type { ModelSpec } from '../../model-spec.js';
import { ModelStats } from '../../model-statistics.js';
import type { VisionProfile } from '../../profiles/gpu-profile.js';
import type { InferCall, ServedModel } from '../../served-model.js';
import { mulberry32 } from '../tiny-llm/tiny-llm-generator.js';

export const RESNET50_INPUT_DIMS = [3, 224, 224] as const;
export const RESNET50_CLASSES = 1000;
const ROW_VALUES = 3 * 224 * 224;
const CHANNEL_VALUES = 224 * 224;
/** Values sampled per channel: enough to tell images apart, cheap for a batch of 128. */
const SAMPLES_PER_CHANNEL = 512;
const SAMPLE_STRIDE = Math.floor(CHANNEL_VALUES / SAMPLES_PER_CHANNEL);

/** logits = W · channelMeans + b, with W, b fixed by a seeded PRNG. */
const WEIGHTS = (() => {
  const random = mulberry32(50);
  const w = new Float64Array(3 * RESNET50_CLASSES);
  const b = new Float64Array(RESNET50_CLASSES);
  for (let i = 0; i < w.length; i++) w[i] = random() * 4 - 2;
  for (let i = 0; i < b.length; i++) b[i] = random() - 0.5;
  return { w, b };
})();

export function resnet50Logits(pixels: Float32Array, rows: number): Float32Array {
  const out = new Float32Array(rows * RESNET50_CLASSES);
  for (let r = 0; r < rows; r++) {
    const means = [0, 0, 0];
    for (let c = 0; c < 3; c++) {
      const base = r * ROW_VALUES + c * CHANNEL_VALUES;
      let sum = 0;
      for (let s = 0; s < SAMPLES_PER_CHANNEL; s++) sum += pixels[base + s * SAMPLE_STRIDE] as number;
      means[c] = sum / SAMPLES_PER_CHANNEL;
    }
    for (let j = 0; j < RESNET50_CLASSES; j++) {
      out[r * RESNET50_CLASSES + j] =
        (WEIGHTS.b[j] as number) + (means[0] as number) * (WEIGHTS.w[j] as number) + (means[1] as number) * (WEIGHTS.w[RESNET50_CLASSES + j] as number) +
        (means[2] as number) * (WEIGHTS.w[2 * RESNET50_CLASSES + j] as number);
    }
  }
  return out;
}

export interface Resnet50ModelOptions {
  profile: VisionProfile;
  instances: number;
  gpu: GpuBusyMeter;
}

export class Resnet50Model implements ServedModel {
  readonly spec: ModelSpec;
  readonly stats = new ModelStats('resnet50');
  readonly #scheduler: InstanceScheduler;
  readonly #profile: VisionProfile;
  readonly #gpu: GpuBusyMeter;

  constructor(options: Resnet50ModelOptions) {
    this.#profile = options.profile;
    this.#gpu = options.gpu;
    this.spec = {
      name: 'resnet50',
      backend: 'tensorrt',
      platform: 'tensorrt_plan',
      maxBatchSize: options.profile.maxBatchSize,
      inputs: [{ name: 'input', datatype: 'FP32', dims: [...RESNET50_INPUT_DIMS] }],
      outputs: [{ name: 'output', datatype: 'FP32', dims: [RESNET50_CLASSES] }],
      decoupled: false,
      dynamicBatching: true,
      instanceCount: options.instances,
      instanceKind: 'KIND_GPU',
    };
    this.#scheduler = new InstanceScheduler({
      instances: options.instances,
      maxMergedBatch: options.profile.maxBatchSize,
      onExecution: (batchSize, computeNs) => this.stats.executed(batchSize, computeNs),
    });
    this.stats.pendingGauge = () => this.#scheduler.pending;
  }

  execute(call: InferCall): Promise<void> {
    const input = call.request.inputs.get('input') as RawTensor;
    return executeOnInstance(call, { name: this.spec.name, scheduler: this.#scheduler, stats: this.stats }, {
      decode: () => {
        // A Float32Array view needs 4-byte alignment; gRPC buffers usually have it, copy otherwise.
        const raw = input.raw.byteOffset % 4 === 0 ? input.raw : Buffer.from(input.raw);
        return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
      },
      compute: async (pixels, lease) => {
        // The GPU time of this execution, given how many executions share the GPU as it starts.
        this.#gpu.begin();
        try {
          await sleep(this.#profile.executionMs(lease.executionBatchSize, this.#scheduler.running));
        } finally {
          this.#gpu.end();
        }
        return resnet50Logits(pixels, call.request.batchSize);
      },
      encode: (logits, rows) => [{ name: 'output', datatype: 'FP32', shape: [rows, RESNET50_CLASSES], raw: Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength) }],
    });
  }
}

// The calibrated profiles `--profile NAME` (and the autoscaling simulator) choose from, by name.
import type { GpuProfile } from './gpu-profile.js';
import { LLAMA3_8B_VLLM_A10, LLAMA3_8B_VLLM_A100 } from './llama3-8b-vllm.js';
import { RESNET50_TRT_FP16_A10, RESNET50_TRT_FP16_A100 } from './resnet50-trt-fp16.js';

export type { GpuName, GpuProfile, LlmProfile, ProfileSource, VisionProfile } from './gpu-profile.js';

export const PROFILES: readonly GpuProfile[] = Object.freeze([RESNET50_TRT_FP16_A10, RESNET50_TRT_FP16_A100, LLAMA3_8B_VLLM_A10, LLAMA3_8B_VLLM_A100]);

export const PROFILE_NAMES: readonly string[] = Object.freeze(PROFILES.map((p) => p.name));

export function getProfile(name: string): GpuProfile | undefined {
  return PROFILES.find((p) => p.name === name);
}

// The router config the OpenAI tests share: every LLM path of one dev runtime — Triton gRPC with
// both tensor profiles, and its vLLM-like OpenAI HTTP server — plus iris and a routed alias.
import type { SpawnedDevRuntime } from './dev-runtime.js';

/** Every generation model answers at most 64 tokens unless the request says otherwise. */
export function llmConfig(runtime: SpawnedDevRuntime, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    clusters: {
      dev: { backend: 'triton-grpc', endpoints: [runtime.grpcTarget] },
      'dev-vllm': { backend: 'openai-http', endpoints: [runtime.openaiUrl.replace('http://', '')] },
    },
    models: {
      iris: { split: [{ cluster: 'dev' }] },
      'tiny-llm': { split: [{ cluster: 'dev' }], llm: { profile: 'vllm-backend', defaultMaxTokens: 64 } },
      'tiny-llm-trt': { split: [{ cluster: 'dev' }], llm: { profile: 'trtllm-ensemble', defaultMaxTokens: 64 } },
      'tiny-llm-vllm': { split: [{ cluster: 'dev-vllm', upstreamModel: 'tiny-llm' }], llm: { defaultMaxTokens: 64 } },
      'org/chat-model': { split: [{ cluster: 'dev', upstreamModel: 'tiny-llm' }], llm: {} },
    },
    ...extra,
  };
}

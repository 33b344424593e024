// The contract between clusters and an upstream protocol codec. Backends know endpoints and wire
// formats only: nothing of routes, splits or tenants.
import type { CallContext } from '../core/call-context.js';
import type { Endpoint } from '../core/endpoint.js';
import type { LlmRequest, LlmResult, LlmUpstream } from '../core/llm.js';
import type { ModelInferRequest } from '../generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../generated/inference/ModelInferResponse.js';
import type { ModelMetadataResponse__Output } from '../generated/inference/ModelMetadataResponse.js';
import type { ModelConfigResponse__Output } from '../generated/inference/ModelConfigResponse.js';
import type { ModelStatisticsResponse__Output } from '../generated/inference/ModelStatisticsResponse.js';
import type { ModelStreamInferResponse__Output } from '../generated/inference/ModelStreamInferResponse.js';

export interface ModelRef {
  readonly name: string;
  /** '' lets the upstream pick by its version policy. */
  readonly version: string;
}

export interface Backend {
  readonly kind: 'triton-grpc' | 'openai-http';
  /**
   * One text generation. Resolves once the upstream has accepted the request and produced its first
   * result (so failures before any output are thrown, not streamed); rejects on upstream errors.
   */
  generate(endpoint: Endpoint, request: LlmRequest, upstream: LlmUpstream, ctx: CallContext): Promise<LlmResult>;
  infer(endpoint: Endpoint, request: ModelInferRequest, ctx: CallContext): Promise<ModelInferResponse__Output>;
  /**
   * One V2 request on its own upstream ModelStreamInfer call, responses passed through as they come.
   * Resolves after the first response (like generate); the iterable ends after the request's last
   * response, and leaving it early cancels the upstream call.
   */
  streamInfer(endpoint: Endpoint, request: ModelInferRequest, ctx: CallContext): Promise<AsyncIterable<ModelStreamInferResponse__Output>>;
  serverReady(endpoint: Endpoint, ctx: CallContext): Promise<boolean>;
  modelReady(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<boolean>;
  modelMetadata(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<ModelMetadataResponse__Output>;
  modelConfig(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<ModelConfigResponse__Output>;
  modelStatistics(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<ModelStatisticsResponse__Output>;
  /** Closes every upstream connection. */
  close(): void;
}

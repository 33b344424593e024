// The contract between clusters and an upstream protocol codec. Backends know endpoints and wire
// formats only: nothing of routes, splits or tenants.
import type { CallContext } from '../core/call-context.js';
import type { Endpoint } from '../core/endpoint.js';
import type { ModelInferRequest } from '../generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../generated/inference/ModelInferResponse.js';
import type { ModelMetadataResponse__Output } from '../generated/inference/ModelMetadataResponse.js';
import type { ModelConfigResponse__Output } from '../generated/inference/ModelConfigResponse.js';
import type { ModelStatisticsResponse__Output } from '../generated/inference/ModelStatisticsResponse.js';

export interface ModelRef {
  readonly name: string;
  /** '' lets the upstream pick by its version policy. */
  readonly version: string;
}

export interface Backend {
  readonly kind: 'triton-grpc';
  infer(endpoint: Endpoint, request: ModelInferRequest, ctx: CallContext): Promise<ModelInferResponse__Output>;
  serverReady(endpoint: Endpoint, ctx: CallContext): Promise<boolean>;
  modelReady(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<boolean>;
  modelMetadata(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<ModelMetadataResponse__Output>;
  modelConfig(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<ModelConfigResponse__Output>;
  modelStatistics(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<ModelStatisticsResponse__Output>;
  /** Closes every upstream connection. */
  close(): void;
}

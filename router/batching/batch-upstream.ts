// What the batcher needs from a cluster: one V2 infer with the route's retry policy, and the model's
// config (for max_batch_size). Routing's ClusterDispatch satisfies it as it is; the batcher may not
// import routing (dependencies point routing → batching → clusters).
import type { CallContext } from '../core/call-context.js';
import type { RetryConfig } from '../config/schema.js';
import type { ModelConfigResponse__Output } from '../generated/inference/ModelConfigResponse.js';
import type { ModelInferRequest } from '../generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../generated/inference/ModelInferResponse.js';

export interface UpstreamModelRef {
  readonly name: string;
  /** '' lets the upstream pick by its version policy. */
  readonly version: string;
}

export interface BatchUpstream {
  infer(request: ModelInferRequest, ctx: CallContext, retry: RetryConfig): Promise<ModelInferResponse__Output>;
  modelConfig(model: UpstreamModelRef, ctx: CallContext): Promise<ModelConfigResponse__Output>;
}

// The contract between the inference engine and a model: the engine validates, applies faults
// and accounts failures; the model schedules itself on its instances, answers through the call
// and records its own successes (it alone knows queue and compute times).
import type { InferParameter__Output } from '../../router/generated/inference/InferParameter.js';
import type { ModelInferResponse } from '../../router/generated/inference/ModelInferResponse.js';
import type { RawTensor } from '../../router/adapters/kserve-tensor/index.js';
import type { ModelSpec } from './model-spec.js';
import type { ModelStats } from './model-statistics.js';

export interface ValidatedRequest {
  id: string;
  /** As the client sent it ("" or "1"). */
  modelVersion: string;
  parameters: Record<string, InferParameter__Output>;
  inputs: Map<string, RawTensor>;
  /** Rows in the request: the first dim when the model batches, else 1. */
  batchSize: number;
  /** Requested output names; empty = all. */
  requestedOutputs: string[];
}

export interface InferCall {
  readonly request: ValidatedRequest;
  /** Aborts when the client cancels, its deadline passes or its stream goes away. */
  readonly signal: AbortSignal;
  /** process.hrtime.bigint() when the request arrived. */
  readonly receivedAt: bigint;
  /** One response; `final` marks the last one for this request. */
  send(response: ModelInferResponse, final: boolean): void;
  /** A decoupled model's flags-only end marker; delivered only if the request opted in. */
  sendEmptyFinal(): void;
}

/** One vLLM engine's load, as vLLM's /metrics reports it (models behind the vLLM backend only). */
export interface VllmEngineLoad {
  running: number;
  waiting: number;
  /** 0..1 */
  kvCacheUsage: number;
  promptTokens: number;
  generationTokens: number;
  preemptions: number;
}

export interface ServedModel {
  readonly spec: ModelSpec;
  readonly stats: ModelStats;
  /** Per engine (index = vLLM's `engine` label); only for models the OpenAI port serves. */
  vllmLoad?(): VllmEngineLoad[];
  /** Resolves once the final response went out; rejects with a RuntimeError or on abort. */
  execute(call: InferCall): Promise<void>;
}

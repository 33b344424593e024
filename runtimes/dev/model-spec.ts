// What a served model looks like from outside: its tensors, batching and transaction policy, and
// the ModelMetadata / ModelConfig / RepositoryIndex views Triton derives from its config.
import { tritonTypeName, type Datatype } from '../../router/core/datatype.js';
import type { DataType } from '../../router/generated/inference/DataType.js';
import type { ModelConfig } from '../../router/generated/inference/ModelConfig.js';
import type { ModelMetadataResponse } from '../../router/generated/inference/ModelMetadataResponse.js';

export interface TensorSpec {
  name: string;
  datatype: Datatype;
  /** Without the batch dimension; -1 = any size. */
  dims: number[];
  optional?: boolean;
}

export interface ModelSpec {
  name: string;
  /** Triton's backend name; ModelMetadata reports it as the platform when config.platform is empty. */
  backend: string;
  /** config.platform, set instead of a backend by e.g. ensembles (`ensemble`, with backend ''). */
  platform?: string;
  maxBatchSize: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  decoupled: boolean;
  dynamicBatching: boolean;
  instanceCount: number;
  instanceKind: 'KIND_CPU' | 'KIND_GPU' | 'KIND_MODEL';
  parameters?: Record<string, string>;
}

export const MODEL_VERSION = '1';

/** The shape a request must have: [-1, ...dims] when the model batches. */
export function fullShape(spec: ModelSpec, tensor: TensorSpec): number[] {
  return spec.maxBatchSize > 0 ? [-1, ...tensor.dims] : [...tensor.dims];
}

export function modelMetadata(spec: ModelSpec): ModelMetadataResponse {
  const meta = (t: TensorSpec) => ({ name: t.name, datatype: t.datatype, shape: fullShape(spec, t).map(String) });
  return {
    name: spec.name,
    versions: [MODEL_VERSION],
    platform: spec.platform ?? spec.backend,
    inputs: spec.inputs.map(meta),
    outputs: spec.outputs.map(meta),
  };
}

/** TYPE_* enum name; tritonTypeName covers every Datatype, so the cast only narrows string. */
function configType(datatype: Datatype): DataType {
  return tritonTypeName(datatype) as DataType;
}

export function modelConfig(spec: ModelSpec): ModelConfig {
  const parameters: NonNullable<ModelConfig['parameters']> = {};
  for (const [key, value] of Object.entries(spec.parameters ?? {})) parameters[key] = { string_value: value };
  return {
    name: spec.name,
    platform: spec.platform ?? '',
    backend: spec.backend,
    max_batch_size: spec.maxBatchSize,
    input: spec.inputs.map((t) => ({
      name: t.name,
      data_type: configType(t.datatype),
      format: 'FORMAT_NONE',
      dims: t.dims.map(String),
      is_shape_tensor: false,
      allow_ragged_batch: false,
      optional: t.optional === true,
    })),
    output: spec.outputs.map((t) => ({
      name: t.name,
      data_type: configType(t.datatype),
      dims: t.dims.map(String),
      label_filename: '',
      is_shape_tensor: false,
    })),
    // An ensemble has no instances of its own; its composing models do.
    instance_group: spec.platform === 'ensemble' ? [] : [{ name: spec.name, count: spec.instanceCount, gpus: [], kind: spec.instanceKind }],
    ...(spec.dynamicBatching ? { dynamic_batching: { preferred_batch_size: [], max_queue_delay_microseconds: '0' } } : {}),
    parameters,
    model_transaction_policy: { decoupled: spec.decoupled },
  };
}

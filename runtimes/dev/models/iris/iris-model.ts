// The served `iris` model: FP32 [-1,4] in, probabilities FP32 [-1,3] and label BYTES [-1,1] out,
// max_batch_size 64, one execution at a time per instance costing a + b*batch ms.
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonToRaw, joinBytesElements, rawToJson, type RawTensor } from '../../../../router/adapters/kserve-tensor/index.js';
import type { CostModel } from '../../cost-model.js';
import { executeOnInstance } from '../../instance-execution.js';
import { InstanceScheduler } from '../../instance-scheduler.js';
import type { ModelSpec } from '../../model-spec.js';
import { ModelStats } from '../../model-statistics.js';
import type { InferCall, ServedModel } from '../../served-model.js';
import { IrisClassifier } from './iris-classifier.js';

export const IRIS_MAX_BATCH_SIZE = 64;

export interface IrisModelOptions {
  instances: number;
  dynamicBatching: boolean;
  cost: CostModel;
}

export class IrisModel implements ServedModel {
  readonly spec: ModelSpec;
  readonly stats = new ModelStats('iris');
  readonly #scheduler: InstanceScheduler;
  readonly #cost: CostModel;
  readonly #classifier = new IrisClassifier();

  constructor(options: IrisModelOptions) {
    this.#cost = options.cost;
    this.spec = {
      name: 'iris',
      backend: 'python',
      maxBatchSize: IRIS_MAX_BATCH_SIZE,
      inputs: [{ name: 'input', datatype: 'FP32', dims: [4] }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', dims: [3] },
        { name: 'label', datatype: 'BYTES', dims: [1] },
      ],
      decoupled: false,
      // Advertised as Triton configs for such models do; the runtime only merges requests when
      // --dynamic-batching is on, so by default each request is its own execution.
      dynamicBatching: true,
      instanceCount: options.instances,
      instanceKind: 'KIND_CPU',
    };
    this.#scheduler = new InstanceScheduler({
      instances: options.instances,
      maxMergedBatch: options.dynamicBatching ? IRIS_MAX_BATCH_SIZE : 0,
      onExecution: (batchSize, computeNs) => this.stats.executed(batchSize, computeNs),
    });
    this.stats.pendingGauge = () => this.#scheduler.pending;
  }

  execute(call: InferCall): Promise<void> {
    const input = call.request.inputs.get('input') as RawTensor;
    return executeOnInstance(call, { name: this.spec.name, scheduler: this.#scheduler, stats: this.stats }, {
      decode: () => rawToJson(input.name, input.datatype, input.shape, input.raw) as number[],
      compute: async (features, lease) => {
        await sleep(this.#cost.executionMs(lease.executionBatchSize));
        return this.#classifier.predict(features);
      },
      encode: (prediction, rows) => [
        { name: 'probabilities', datatype: 'FP32', shape: [rows, 3], raw: jsonToRaw('probabilities', 'FP32', [rows, 3], Array.from(prediction.probabilities)) },
        { name: 'label', datatype: 'BYTES', shape: [rows, 1], raw: joinBytesElements(prediction.labels.map((l) => Buffer.from(l, 'utf8'))) },
      ],
    });
  }
}

// One request of a batching model (iris, resnet50) run the way Triton runs it on a model instance:
// wait for an instance (merged with others when the model batches), decode the input, compute —
// the instance stays busy even if the client goes away, as a backend mid-execution does — encode
// the outputs, release the instance, answer, and record Triton's per-request statistics
// (compute input / infer / output split at the same three points for every model).
import type { RawTensor } from '../../router/adapters/kserve-tensor/index.js';
import { inferResponse } from './infer-response.js';
import type { InstanceScheduler, Lease } from './instance-scheduler.js';
import type { ModelStats } from './model-statistics.js';
import type { InferCall } from './served-model.js';

export interface ExecutionSteps<I, R> {
  decode(): I;
  /** The execution itself; `lease` says the merged batch size and the instance. */
  compute(input: I, lease: Lease): Promise<R>;
  encode(result: R, rows: number): RawTensor[];
}

export async function executeOnInstance<I, R>(
  call: InferCall,
  model: { readonly name: string; readonly scheduler: InstanceScheduler; readonly stats: ModelStats },
  steps: ExecutionSteps<I, R>,
): Promise<void> {
  const { request } = call;
  const lease = await model.scheduler.acquire(request.batchSize, call.signal);
  let outputs: RawTensor[];
  let t1: bigint;
  let t2: bigint;
  const t0 = process.hrtime.bigint();
  try {
    const input = steps.decode();
    t1 = process.hrtime.bigint();
    const result = await steps.compute(input, lease);
    t2 = process.hrtime.bigint();
    outputs = steps.encode(result, request.batchSize);
  } finally {
    lease.release();
  }
  const t3 = process.hrtime.bigint();
  if (call.signal.aborted) throw call.signal.reason;
  call.send(inferResponse(model.name, request, outputs), true);
  model.stats.requestSucceeded({
    batchSize: request.batchSize,
    totalNs: process.hrtime.bigint() - call.receivedAt,
    queueNs: lease.queueNs,
    computeInputNs: t1 - t0,
    computeInferNs: t2 - t1,
    computeOutputNs: t3 - t2,
  });
}

// Per-model counters in Triton's shape (ModelStatistics, the nv_inference_* metrics) plus the
// dev-only counters behind /dev/stats. Triton's conventions: inference_count adds the batch size
// of each successful request, execution_count adds one per model execution (a merged batch is
// one), success/queue/compute_* are per request, batch_stats per execution, response_stats per
// response index of a decoupled request. Cancelled requests count as failures (reason CANCELED).
import type { ModelStatistics } from '../../router/generated/inference/ModelStatistics.js';
import type { StatisticDuration } from '../../router/generated/inference/StatisticDuration.js';

export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';
export const FAILURE_REASONS: readonly FailureReason[] = ['REJECTED', 'CANCELED', 'BACKEND', 'OTHER'];

export type ResponseKind = 'success' | 'fail' | 'empty_response' | 'cancel';

class Duration {
  count = 0;
  ns = 0n;

  add(ns: bigint): void {
    this.count++;
    this.ns += ns < 0n ? 0n : ns;
  }

  toProto(): StatisticDuration {
    return { count: String(this.count), ns: this.ns.toString() };
  }
}

class BatchStats {
  readonly computeInput = new Duration();
  readonly computeInfer = new Duration();
  readonly computeOutput = new Duration();
}

class ResponseStats {
  readonly computeInfer = new Duration();
  readonly computeOutput = new Duration();
  readonly success = new Duration();
  readonly fail = new Duration();
  readonly emptyResponse = new Duration();
  readonly cancel = new Duration();
}

export interface RequestTimings {
  batchSize: number;
  totalNs: bigint;
  queueNs: bigint;
  computeInputNs: bigint;
  computeInferNs: bigint;
  computeOutputNs: bigint;
}

export interface DevModelCounters {
  /** Inference requests that named this model (after the model lookup). */
  calls: number;
  /** Model executions (a merged batch is one). */
  batches: number;
  succeeded: number;
  /** Failed for any reason other than cancellation. */
  failed: number;
  /** Cancelled by the client (RST_STREAM or deadline) before completing. */
  cancelled: number;
  /** Accepted and not yet answered, including queued and hung requests. */
  inFlight: number;
  /** Waiting in the instance queue. */
  pending: number;
  /** tiny-llm: tokens generated (also those of requests cancelled later). */
  tokens: number;
}

export class ModelStats {
  readonly name: string;
  readonly version = '1';
  lastInferenceMs = 0;
  inferenceCount = 0;
  executionCount = 0;
  readonly success = new Duration();
  readonly fail = new Duration();
  readonly queue = new Duration();
  readonly computeInput = new Duration();
  readonly computeInfer = new Duration();
  readonly computeOutput = new Duration();
  readonly failures: Record<FailureReason, number> = { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 };
  readonly #batches = new Map<number, BatchStats>();
  readonly #responses = new Map<number, ResponseStats>();
  calls = 0;
  inFlight = 0;
  tokens = 0;
  /** Reads the scheduler's queue length; set by the model host. */
  pendingGauge: () => number = () => 0;

  constructor(name: string) {
    this.name = name;
  }

  requestStarted(): void {
    this.calls++;
    this.inFlight++;
  }

  requestSucceeded(t: RequestTimings): void {
    this.inFlight--;
    this.lastInferenceMs = Date.now();
    this.inferenceCount += t.batchSize;
    this.success.add(t.totalNs);
    this.queue.add(t.queueNs);
    this.computeInput.add(t.computeInputNs);
    this.computeInfer.add(t.computeInferNs);
    this.computeOutput.add(t.computeOutputNs);
  }

  requestFailed(reason: FailureReason, totalNs: bigint): void {
    this.inFlight--;
    this.lastInferenceMs = Date.now();
    this.failures[reason]++;
    this.fail.add(totalNs);
  }

  executed(batchSize: number, computeNs: bigint): void {
    this.executionCount++;
    let stats = this.#batches.get(batchSize);
    if (stats === undefined) {
      stats = new BatchStats();
      this.#batches.set(batchSize, stats);
    }
    // The simulated execution is one opaque span; input/output copies are counted, not timed.
    stats.computeInput.add(0n);
    stats.computeInfer.add(computeNs);
    stats.computeOutput.add(0n);
  }

  /** One response (or the cancellation that replaced it) of a decoupled request, by index. */
  response(index: number, kind: ResponseKind, computeInferNs: bigint, computeOutputNs: bigint): void {
    let stats = this.#responses.get(index);
    if (stats === undefined) {
      stats = new ResponseStats();
      this.#responses.set(index, stats);
    }
    const total = computeInferNs + computeOutputNs;
    if (kind === 'success') {
      stats.computeInfer.add(computeInferNs);
      stats.computeOutput.add(computeOutputNs);
      stats.success.add(total);
    } else if (kind === 'fail') {
      stats.fail.add(total);
    } else if (kind === 'empty_response') {
      stats.emptyResponse.add(total);
    } else {
      stats.cancel.add(total);
    }
  }

  get cancelled(): number {
    return this.failures.CANCELED;
  }

  toProto(): ModelStatistics {
    const responseStats: NonNullable<ModelStatistics['response_stats']> = {};
    for (const [index, r] of [...this.#responses].sort((a, b) => a[0] - b[0])) {
      responseStats[String(index)] = {
        compute_infer: r.computeInfer.toProto(),
        compute_output: r.computeOutput.toProto(),
        success: r.success.toProto(),
        fail: r.fail.toProto(),
        empty_response: r.emptyResponse.toProto(),
        cancel: r.cancel.toProto(),
      };
    }
    return {
      name: this.name,
      version: this.version,
      last_inference: String(this.lastInferenceMs),
      inference_count: String(this.inferenceCount),
      execution_count: String(this.executionCount),
      inference_stats: {
        success: this.success.toProto(),
        fail: this.fail.toProto(),
        queue: this.queue.toProto(),
        compute_input: this.computeInput.toProto(),
        compute_infer: this.computeInfer.toProto(),
        compute_output: this.computeOutput.toProto(),
        cache_hit: new Duration().toProto(),
        cache_miss: new Duration().toProto(),
      },
      batch_stats: [...this.#batches]
        .sort((a, b) => a[0] - b[0])
        .map(([size, b]) => ({
          batch_size: String(size),
          compute_input: b.computeInput.toProto(),
          compute_infer: b.computeInfer.toProto(),
          compute_output: b.computeOutput.toProto(),
        })),
      memory_usage: [],
      response_stats: responseStats,
    };
  }

  toDevCounters(): DevModelCounters {
    return {
      calls: this.calls,
      batches: this.executionCount,
      succeeded: this.success.count,
      failed: this.fail.count - this.failures.CANCELED,
      cancelled: this.failures.CANCELED,
      inFlight: this.inFlight,
      pending: this.pendingGauge(),
      tokens: this.tokens,
    };
  }
}

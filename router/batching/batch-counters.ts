// Counters of one batcher, or of every batcher serving one model: a BatchObserver that remembers.
// Queue depth is a gauge per batcher; a shared (per-model) BatchCounters sums its children's.
import { ALONE_REASONS, type AloneReason, type BatchObserver } from './batch-observer.js';

export interface BatchingStats {
  /** Batches sent upstream (a batch of one request counts). */
  readonly batches: number;
  /** Requests (or pieces of split requests) in those batches. */
  readonly batchedRequests: number;
  /** Rows (dimension 0) in those batches. */
  readonly rows: number;
  /** Batches by their rows, Triton's batch size: `{ "1": 3, "8": 120 }`. */
  readonly batchSizes: Readonly<Record<string, number>>;
  /** How long each batch's oldest request waited in the queue, as measured by the batcher. */
  readonly queueDelayUs: { readonly mean: number; readonly max: number };
  readonly queueDepth: number;
  readonly maxQueueDepth: number;
  readonly sentAlone: Readonly<Record<AloneReason, number>>;
  /** Oversize requests cut into pieces (oversize: split). */
  readonly split: number;
  readonly expired: number;
  readonly rejected: number;
  readonly cancelled: number;
  /** Batches that failed upstream (each of their requests got the error). */
  readonly failedBatches: number;
}

export class BatchCounters implements BatchObserver {
  #batches = 0;
  #batchedRequests = 0;
  #rows = 0;
  readonly #sizes = new Map<number, number>();
  #delaySumUs = 0;
  #delayMaxUs = 0;
  #depth = 0;
  #maxDepth = 0;
  readonly #alone: Record<AloneReason, number> = Object.fromEntries(ALONE_REASONS.map((r) => [r, 0])) as Record<AloneReason, number>;
  #split = 0;
  #expired = 0;
  #rejected = 0;
  #cancelled = 0;
  #failedBatches = 0;

  batchSent(size: number, rows: number, queueDelayMs: number): void {
    this.#batches++;
    this.#batchedRequests += size;
    this.#rows += rows;
    this.#sizes.set(rows, (this.#sizes.get(rows) ?? 0) + 1);
    const us = Math.max(0, queueDelayMs * 1000);
    this.#delaySumUs += us;
    if (us > this.#delayMaxUs) this.#delayMaxUs = us;
  }

  queueDepth(n: number): void {
    this.#setDepth(n);
  }

  expired(): void {
    this.#expired++;
  }

  rejected(): void {
    this.#rejected++;
  }

  sentAlone(reason: AloneReason): void {
    this.#alone[reason]++;
  }

  cancelled(): void {
    this.#cancelled++;
  }

  batchFailed(): void {
    this.#failedBatches++;
  }

  split(): void {
    this.#split++;
  }

  /** An observer for one more batcher counted here: its queue depth adds to the others'. */
  child(): BatchObserver {
    let last = 0;
    return {
      batchSent: (size, rows, delay) => this.batchSent(size, rows, delay),
      queueDepth: (n) => {
        this.#setDepth(this.#depth + n - last);
        last = n;
      },
      expired: () => this.expired(),
      rejected: () => this.rejected(),
      sentAlone: (reason) => this.sentAlone(reason),
      cancelled: () => this.cancelled(),
      batchFailed: () => this.batchFailed(),
      split: () => this.split(),
    };
  }

  snapshot(): BatchingStats {
    return {
      batches: this.#batches,
      batchedRequests: this.#batchedRequests,
      rows: this.#rows,
      batchSizes: Object.fromEntries([...this.#sizes].sort((a, b) => a[0] - b[0]).map(([rows, n]) => [String(rows), n])),
      queueDelayUs: { mean: this.#batches === 0 ? 0 : Math.round(this.#delaySumUs / this.#batches), max: Math.round(this.#delayMaxUs) },
      queueDepth: this.#depth,
      maxQueueDepth: this.#maxDepth,
      sentAlone: { ...this.#alone },
      split: this.#split,
      expired: this.#expired,
      rejected: this.#rejected,
      cancelled: this.#cancelled,
      failedBatches: this.#failedBatches,
    };
  }

  #setDepth(n: number): void {
    this.#depth = n;
    if (n > this.#maxDepth) this.#maxDepth = n;
  }
}

// The batcher's hooks for telemetry: every event a metric would count, with a no-op default. The
// batcher calls them synchronously on its hot path, so an observer must be cheap and never throw.

/** Why a request went upstream on its own instead of through the queue. */
export type AloneReason =
  /** The upstream model's max_batch_size is 0 or 1: it has no batch dimension to merge on. */
  | 'modelDoesNotBatch'
  /** The model's config could not be read (yet); unbatched until it can. */
  | 'modelConfigUnavailable'
  /** The request cannot be merged safely: no inputs, inputs disagreeing on dimension 0, sequence parameters, malformed tensors. */
  | 'notBatchable'
  /** More rows than the batch may hold, with `oversize: alone`. */
  | 'oversize';

export const ALONE_REASONS: readonly AloneReason[] = ['modelDoesNotBatch', 'modelConfigUnavailable', 'notBatchable', 'oversize'];

export interface BatchObserver {
  /** A batch went upstream: `size` requests with `rows` rows in all; its oldest request waited `queueDelayMs`. */
  batchSent(size: number, rows: number, queueDelayMs: number): void;
  /** Requests now waiting in this batcher's queue. */
  queueDepth(n: number): void;
  /** A request's deadline passed while it waited; it was never sent. */
  expired(): void;
  /** A request was refused because the queue held maxQueueSize requests. */
  rejected(): void;
  /** A request went upstream unbatched. */
  sentAlone(reason: AloneReason): void;
  /** A client left while its request waited or while its batch was upstream. */
  cancelled(): void;
  /** A batch failed upstream; each of its `size` requests got the upstream's error. */
  batchFailed(size: number): void;
  /** An oversize request (oversize: split) was cut into `pieces` queue entries. */
  split(pieces: number): void;
}

export const NO_BATCH_OBSERVER: BatchObserver = {
  batchSent: () => {},
  queueDepth: () => {},
  expired: () => {},
  rejected: () => {},
  sentAlone: () => {},
  cancelled: () => {},
  batchFailed: () => {},
  split: () => {},
};

/** One observer that tells each of `observers` in turn. */
export function fanOutObserver(observers: readonly BatchObserver[]): BatchObserver {
  return {
    batchSent: (size, rows, delay) => observers.forEach((o) => o.batchSent(size, rows, delay)),
    queueDepth: (n) => observers.forEach((o) => o.queueDepth(n)),
    expired: () => observers.forEach((o) => o.expired()),
    rejected: () => observers.forEach((o) => o.rejected()),
    sentAlone: (reason) => observers.forEach((o) => o.sentAlone(reason)),
    cancelled: () => observers.forEach((o) => o.cancelled()),
    batchFailed: (size) => observers.forEach((o) => o.batchFailed(size)),
    split: (pieces) => observers.forEach((o) => o.split(pieces)),
  };
}

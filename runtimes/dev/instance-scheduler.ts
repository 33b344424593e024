// Model instances and their FIFO queue: a request waits until an instance is free and holds it
// (a lease) while it executes, so `instances` executions run in parallel and the rest queue.
// Invariants: a request whose signal aborts while queued leaves the queue at once (its promise
// rejects with the abort reason); once dispatched it keeps its instance until release(), exactly
// as a Triton backend finishes an execution it has started. With merging on (Triton's dynamic
// batcher with no queue delay), a dispatch takes the head request plus every queued request that
// still fits in maxMergedBatch; the group shares one instance and counts as one execution.

export interface Lease {
  readonly instance: number;
  /** Time spent waiting in the queue. */
  readonly queueNs: bigint;
  /** Rows in the whole execution this request is part of (its own batch when nothing merged). */
  readonly executionBatchSize: number;
  release(): void;
}

export interface InstanceSchedulerOptions {
  instances: number;
  /** Largest merged batch; 0 disables merging. */
  maxMergedBatch: number;
  /** Called once per execution when its last lease is released. */
  onExecution?: (batchSize: number, computeNs: bigint) => void;
}

interface Waiter {
  batchSize: number;
  enqueuedAt: bigint;
  signal: AbortSignal;
  onAbort: () => void;
  resolve: (lease: Lease) => void;
  reject: (reason: unknown) => void;
}

export class InstanceScheduler {
  readonly #free: number[];
  readonly #queue: Waiter[] = [];
  readonly #options: InstanceSchedulerOptions;
  #running = 0;

  constructor(options: InstanceSchedulerOptions) {
    this.#options = options;
    this.#free = Array.from({ length: options.instances }, (_, i) => i);
  }

  /** Requests waiting for an instance. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Executions in progress. */
  get running(): number {
    return this.#running;
  }

  acquire(batchSize: number, signal: AbortSignal): Promise<Lease> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        batchSize,
        enqueuedAt: process.hrtime.bigint(),
        signal,
        onAbort: () => {
          const at = this.#queue.indexOf(waiter);
          if (at !== -1) this.#queue.splice(at, 1);
          reject(signal.reason);
        },
        resolve,
        reject,
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.#queue.push(waiter);
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#free.length > 0 && this.#queue.length > 0) {
      const group = [this.#queue.shift() as Waiter];
      let total = group[0]!.batchSize;
      const max = this.#options.maxMergedBatch;
      while (max > 0 && this.#queue.length > 0 && total + this.#queue[0]!.batchSize <= max) {
        const next = this.#queue.shift() as Waiter;
        group.push(next);
        total += next.batchSize;
      }
      this.#start(this.#free.shift() as number, group, total);
    }
  }

  #start(instance: number, group: Waiter[], total: number): void {
    const startedAt = process.hrtime.bigint();
    let outstanding = group.length;
    this.#running++;
    const releaseOne = (): void => {
      outstanding--;
      if (outstanding > 0) return;
      this.#running--;
      this.#options.onExecution?.(total, process.hrtime.bigint() - startedAt);
      this.#free.push(instance);
      this.#dispatch();
    };
    for (const waiter of group) {
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      let released = false;
      waiter.resolve({
        instance,
        queueNs: startedAt - waiter.enqueuedAt,
        executionBatchSize: total,
        release: () => {
          if (released) return;
          released = true;
          releaseOne();
        },
      });
    }
  }
}

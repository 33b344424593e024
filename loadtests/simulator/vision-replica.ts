// A Triton replica serving an image model: `instances` model instances share one GPU, and the
// dynamic batcher forms batches of up to maxBatchSize from one FIFO queue. An execution of
// `batch` rows lasts profile.executionMs(batch, concurrent), `concurrent` counted when it starts
// (this one included) and kept for its duration — executions that start later do not slow it down.
// Dynamic batching (Triton's `dynamic_batching { max_queue_delay_microseconds }`): when an
// instance is free, a batch goes at once if it is full or the delay is 0; otherwise the batcher
// waits until the oldest request has waited `maxQueueDelayMs`, then sends what it has.
// Without dynamic batching every execution is one request.
import type { VisionProfile } from '../../runtimes/dev/profiles/gpu-profile.js';
import type { Replica, ReplicaHost, SimRequest } from './replica.js';

const DONE = 0;
const DELAY = 1;

export interface VisionReplicaOptions {
  readonly dynamicBatching: boolean;
  /** Triton max_queue_delay_microseconds, in ms; 0 = batch whatever is queued. */
  readonly maxQueueDelayMs: number;
}

export class VisionReplica implements Replica {
  readonly kind = 'vision' as const;
  readonly #profile: VisionProfile;
  readonly #host: ReplicaHost;
  readonly #maxBatch: number;
  readonly #delayS: number;
  #queue: SimRequest[] = [];
  #head = 0;
  #executing = 0;
  #executingRows = 0;
  #busyS = 0;
  #busySince = 0;
  /** A DELAY timer is pending for this time (so a burst schedules one timer, not one per request). */
  #timerAt = -1;
  readonly #executingBatches = new Set<SimRequest[]>();
  #dead = false;

  constructor(profile: VisionProfile, host: ReplicaHost, options: VisionReplicaOptions) {
    this.#profile = profile;
    this.#host = host;
    this.#maxBatch = options.dynamicBatching ? Math.max(1, profile.maxBatchSize) : 1;
    this.#delayS = options.dynamicBatching ? options.maxQueueDelayMs / 1000 : 0;
  }

  get outstanding(): number {
    return this.#queue.length - this.#head + this.#executingRows;
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  busySeconds(now: number): number {
    return this.#busyS + (this.#executing > 0 ? now - this.#busySince : 0);
  }

  enqueue(request: SimRequest, now: number): void {
    request.enqueued = now;
    this.#queue.push(request);
    this.#dispatch(now);
  }

  abort(): SimRequest[] {
    this.#dead = true;
    const lost = this.#queue.slice(this.#head);
    for (const b of this.#executingBatches) lost.push(...b);
    this.#queue = [];
    this.#head = 0;
    this.#executingBatches.clear();
    this.#executingRows = 0;
    return lost;
  }

  onTimer(kind: number, payload: unknown, now: number): void {
    if (this.#dead) return;
    if (kind === DONE) {
      const batch = payload as SimRequest[];
      this.#executingBatches.delete(batch);
      this.#executing--;
      this.#executingRows -= batch.length;
      if (this.#executing === 0) this.#busyS += now - this.#busySince;
      for (const r of batch) this.#host.complete(r, now);
    } else if (kind === DELAY && now >= this.#timerAt) {
      this.#timerAt = -1;
    }
    this.#dispatch(now);
  }

  #dispatch(now: number): void {
    const instances = this.#profile.instances;
    while (this.#executing < instances && this.#head < this.#queue.length) {
      const waiting = this.#queue.length - this.#head;
      if (waiting < this.#maxBatch && this.#delayS > 0) {
        const oldest = this.#queue[this.#head] as SimRequest;
        const due = oldest.enqueued + this.#delayS;
        if (now < due) {
          if (this.#timerAt !== due) {
            this.#timerAt = due;
            this.#host.schedule(due, this, DELAY, undefined);
          }
          return;
        }
      }
      const size = Math.min(waiting, this.#maxBatch);
      const batch = this.#queue.slice(this.#head, this.#head + size);
      this.#head += size;
      if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      if (this.#executing === 0) this.#busySince = now;
      this.#executing++;
      this.#executingRows += size;
      this.#executingBatches.add(batch);
      const ms = this.#profile.executionMs(size, this.#executing);
      this.#host.schedule(now + ms / 1000, this, DONE, batch);
    }
  }
}

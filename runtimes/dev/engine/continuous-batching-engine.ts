// vLLM's scheduler, reduced to what routing and autoscaling can observe: one engine loop per GPU,
// where each step advances every running sequence by one token and lasts
// decodeStepMs(running) + prefillMs(prompt tokens of the sequences admitted in this step) — the
// prompt of a newcomer is computed inside the step, so everybody's inter-token latency rises
// while it prefills, as in vLLM (which mixes prefill chunks into decode steps).
//
// Admission (at the start of a step, FIFO, head-of-line): while running < maxNumSeqs and the
// head's tokens fit in free KV blocks. KV blocks are allocated incrementally, as vLLM's paged
// cache does: a sequence holds ceil(tokens / blockTokens) blocks and takes one more every
// blockTokens tokens. When a running sequence needs a block and none is free, the most recently
// admitted running sequence is preempted (vLLM V1's recompute policy): its blocks are freed and it
// goes back to the head of the queue; when readmitted it recomputes prompt + generated tokens as
// a prefill. Generated tokens are kept, so a preempted stream pauses and then continues.
//
// Cancellation removes a sequence at once: its blocks are free for the next step's admission (the
// step in progress keeps its length). Invariants: usedBlocks = Σ blocks of running sequences
// ≤ totalBlocks; a sequence is in exactly one of waiting / running / gone.
import { REAL_CLOCK, type EngineClock } from './engine-clock.js';

export interface EngineCost {
  prefillMs(promptTokens: number): number;
  decodeStepMs(running: number): number;
}

export interface EngineLimits {
  maxNumSeqs: number;
  /** KV-cache capacity in tokens; Infinity = no KV limit. */
  kvCacheTokens: number;
  kvBlockTokens: number;
}

export interface EngineSequenceSpec {
  promptTokens: number;
  /** Prompt + generated tokens this sequence can reach; refused at submit if it could never fit. */
  maxTokens: number;
  /** The first admission (its queue time ends). */
  onAdmitted?(): void;
  /** One more token, at the end of a step it ran in. Return true when the sequence is done. */
  onToken(): boolean;
}

export interface EngineSequence {
  /** Leaves the queue or the batch at once, freeing its KV blocks. Idempotent. */
  cancel(): void;
}

export interface EngineCounters {
  promptTokens: number;
  generationTokens: number;
  preemptions: number;
}

export interface ContinuousBatchingEngineOptions {
  cost: EngineCost;
  limits: EngineLimits;
  clock?: EngineClock;
  /** Told when the GPU starts (true) and stops (false) running steps. */
  onBusy?: (busy: boolean) => void;
}

export class KvCapacityError extends Error {
  override name = 'KvCapacityError';
}

type State = 'waiting' | 'running' | 'gone';

class Sequence {
  state: State = 'waiting';
  /** Prompt + generated tokens. */
  length: number;
  blocks = 0;
  admitted = false;

  constructor(readonly spec: EngineSequenceSpec) {
    this.length = spec.promptTokens;
  }
}

export class ContinuousBatchingEngine {
  readonly #cost: EngineCost;
  readonly #limits: EngineLimits;
  readonly #clock: EngineClock;
  readonly #onBusy: ((busy: boolean) => void) | undefined;
  readonly #totalBlocks: number;
  readonly #waiting: Sequence[] = [];
  /** In admission order; the last one is the first to be preempted. */
  readonly #running: Sequence[] = [];
  #usedBlocks = 0;
  #stepEnd = 0;
  #cancelStep: (() => void) | undefined;
  readonly counters: EngineCounters = { promptTokens: 0, generationTokens: 0, preemptions: 0 };

  constructor(options: ContinuousBatchingEngineOptions) {
    this.#cost = options.cost;
    this.#limits = options.limits;
    this.#clock = options.clock ?? REAL_CLOCK;
    this.#onBusy = options.onBusy;
    this.#totalBlocks = Number.isFinite(options.limits.kvCacheTokens)
      ? Math.floor(options.limits.kvCacheTokens / options.limits.kvBlockTokens)
      : Number.POSITIVE_INFINITY;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  get running(): number {
    return this.#running.length;
  }

  /** Fraction 0..1 of KV blocks in use (0 without a KV limit). */
  get kvUsage(): number {
    return Number.isFinite(this.#totalBlocks) && this.#totalBlocks > 0 ? this.#usedBlocks / this.#totalBlocks : 0;
  }

  get usedBlocks(): number {
    return this.#usedBlocks;
  }

  get totalBlocks(): number {
    return this.#totalBlocks;
  }

  /** Queued + running: what a dispatcher over several engines balances. */
  get load(): number {
    return this.#waiting.length + this.#running.length;
  }

  submit(spec: EngineSequenceSpec): EngineSequence {
    if (this.#blocksFor(spec.maxTokens) > this.#totalBlocks) {
      throw new KvCapacityError(`a sequence of ${spec.maxTokens} tokens needs more KV cache than the ${this.#limits.kvCacheTokens} tokens there are`);
    }
    const sequence = new Sequence(spec);
    this.#waiting.push(sequence);
    if (this.#cancelStep === undefined) this.#startStep(this.#clock.now());
    return { cancel: () => this.#cancel(sequence) };
  }

  #blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.#limits.kvBlockTokens);
  }

  #free(sequence: Sequence): void {
    this.#usedBlocks -= sequence.blocks;
    sequence.blocks = 0;
  }

  #cancel(sequence: Sequence): void {
    if (sequence.state === 'waiting') this.#waiting.splice(this.#waiting.indexOf(sequence), 1);
    if (sequence.state === 'running') {
      this.#running.splice(this.#running.indexOf(sequence), 1);
      this.#free(sequence);
    }
    sequence.state = 'gone';
  }

  /** Preempts the most recently admitted running sequence back to the head of the queue. */
  #preemptLast(): Sequence {
    const victim = this.#running.pop() as Sequence;
    this.#free(victim);
    victim.state = 'waiting';
    this.#waiting.unshift(victim);
    this.counters.preemptions++;
    return victim;
  }

  #startStep(at: number): void {
    // Running sequences first (vLLM schedules them before the queue): each needs room for the
    // token it computes in this step, preempting from the back when the cache is full.
    for (let i = 0; i < this.#running.length; i++) {
      const sequence = this.#running[i] as Sequence;
      const need = this.#blocksFor(sequence.length);
      while (sequence.state === 'running' && sequence.blocks < need) {
        if (this.#usedBlocks < this.#totalBlocks) {
          sequence.blocks++;
          this.#usedBlocks++;
        } else if (this.#preemptLast() === sequence) {
          break;
        }
      }
    }
    let prefillTokens = 0;
    while (this.#waiting.length > 0 && this.#running.length < this.#limits.maxNumSeqs) {
      const head = this.#waiting[0] as Sequence;
      const need = this.#blocksFor(head.length);
      if (need > this.#totalBlocks - this.#usedBlocks) break;
      this.#waiting.shift();
      head.state = 'running';
      head.blocks = need;
      this.#usedBlocks += need;
      this.#running.push(head);
      prefillTokens += head.length;
      if (!head.admitted) {
        head.admitted = true;
        this.counters.promptTokens += head.spec.promptTokens;
        head.spec.onAdmitted?.();
      }
    }
    if (this.#running.length === 0) {
      if (this.#cancelStep !== undefined || this.#stepEnd !== 0) this.#onBusy?.(false);
      this.#cancelStep = undefined;
      this.#stepEnd = 0;
      return;
    }
    if (this.#stepEnd === 0) this.#onBusy?.(true);
    this.#stepEnd = at + this.#cost.decodeStepMs(this.#running.length) + this.#cost.prefillMs(prefillTokens);
    this.#cancelStep = this.#clock.at(this.#stepEnd, () => this.#endStep());
  }

  #endStep(): void {
    const end = this.#stepEnd;
    for (const sequence of [...this.#running]) {
      // An earlier sequence's onToken may have cancelled this one.
      if (sequence.state !== 'running') continue;
      sequence.length++;
      this.counters.generationTokens++;
      let done: boolean;
      try {
        done = sequence.spec.onToken();
      } catch {
        done = true;
      }
      if (done) this.#cancel(sequence);
    }
    // The next step starts when this one was due, not when the timer fired: no drift.
    this.#startStep(end);
  }
}

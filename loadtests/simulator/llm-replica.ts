// A vLLM replica in virtual time, mirroring the dev runtime's engine step for step
// (runtimes/dev/engine/continuous-batching-engine.ts): one engine loop per GPU; each step first
// gives every running sequence the KV blocks its length needs (preempting the most recently
// admitted running sequence when the cache is full — vLLM V1's recompute policy: it goes back to
// the head of the queue and, when readmitted, recomputes prompt + generated tokens as a prefill),
// then admits waiting sequences FIFO, head-of-line, while running < maxNumSeqs and the head's
// ceil(length / blockTokens) blocks are free (KV allocated incrementally, not reserved for
// max_tokens). A step lasts decodeStepMs(running, newcomers included) + prefillMs(prefill tokens
// of the sequences admitted in it) and ends with one token for every running sequence; a
// sequence's first token is the end of its first admission step (TTFT = queue + that step).
// The next step starts when the previous one was due; the loop idles when nothing runs.
import type { LlmProfile } from '../../runtimes/dev/profiles/gpu-profile.js';
import type { Replica, ReplicaHost, SimRequest } from './replica.js';

const STEP_END = 0;

class Sequence {
  /** Prompt + generated tokens. */
  length: number;
  generated = 0;
  blocks = 0;
  running = false;

  constructor(readonly request: SimRequest) {
    this.length = request.promptTokens;
  }
}

export class LlmReplica implements Replica {
  readonly kind = 'llm' as const;
  readonly #profile: LlmProfile;
  readonly #host: ReplicaHost;
  readonly #totalBlocks: number;
  /** FIFO with a moving head so a preempted sequence can go back to the front in O(1). */
  #waiting: Sequence[] = [];
  #head = 0;
  /** In admission order; the last one is the first to be preempted. */
  #running: Sequence[] = [];
  #usedBlocks = 0;
  #stepping = false;
  #busyS = 0;
  #busySince = 0;
  preemptions = 0;
  #dead = false;

  constructor(profile: LlmProfile, host: ReplicaHost) {
    this.#profile = profile;
    this.#host = host;
    this.#totalBlocks = Math.floor(profile.kvCacheTokens / profile.kvBlockTokens);
  }

  /** Whether a request of this shape could ever run (the engine refuses it at submit otherwise). */
  fits(promptTokens: number, outputTokens: number): boolean {
    return Math.ceil((promptTokens + outputTokens) / this.#profile.kvBlockTokens) <= this.#totalBlocks;
  }

  get outstanding(): number {
    return this.#waiting.length - this.#head + this.#running.length;
  }

  get queued(): number {
    return this.#waiting.length - this.#head;
  }

  get running(): number {
    return this.#running.length;
  }

  /** Share of KV-cache blocks in use (vllm:gpu_cache_usage_perc). */
  get kvUsage(): number {
    return this.#totalBlocks > 0 ? this.#usedBlocks / this.#totalBlocks : 0;
  }

  busySeconds(now: number): number {
    return this.#busyS + (this.#stepping ? now - this.#busySince : 0);
  }

  enqueue(request: SimRequest, now: number): void {
    request.enqueued = now;
    this.#waiting.push(new Sequence(request));
    if (!this.#stepping) this.#startStep(now);
  }

  abort(): SimRequest[] {
    this.#dead = true;
    const lost = [...this.#waiting.slice(this.#head), ...this.#running].map((s) => s.request);
    this.#waiting = [];
    this.#head = 0;
    this.#running = [];
    return lost;
  }

  onTimer(_kind: number, _payload: unknown, now: number): void {
    if (this.#dead) return;
    const still: Sequence[] = [];
    for (const s of this.#running) {
      s.length++;
      s.generated++;
      if (s.generated === 1) this.#host.firstToken(s.request, now);
      if (s.generated >= s.request.outputTokens) {
        this.#usedBlocks -= s.blocks;
        s.blocks = 0;
        s.running = false;
        this.#host.complete(s.request, now);
      } else {
        still.push(s);
      }
    }
    this.#running = still;
    this.#startStep(now);
  }

  #blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.#profile.kvBlockTokens);
  }

  #preemptLast(): Sequence {
    const victim = this.#running.pop() as Sequence;
    this.#usedBlocks -= victim.blocks;
    victim.blocks = 0;
    victim.running = false;
    if (this.#head > 0) this.#waiting[--this.#head] = victim;
    else this.#waiting.unshift(victim);
    this.preemptions++;
    return victim;
  }

  #startStep(now: number): void {
    const running = this.#running;
    for (let i = 0; i < running.length; i++) {
      const s = running[i] as Sequence;
      const need = this.#blocksFor(s.length);
      while (s.running && s.blocks < need) {
        if (this.#usedBlocks < this.#totalBlocks) {
          s.blocks++;
          this.#usedBlocks++;
        } else if (this.#preemptLast() === s) {
          break;
        }
      }
    }
    let prefillTokens = 0;
    const maxNumSeqs = this.#profile.maxNumSeqs;
    while (this.#head < this.#waiting.length && running.length < maxNumSeqs) {
      const s = this.#waiting[this.#head] as Sequence;
      const need = this.#blocksFor(s.length);
      if (need > this.#totalBlocks - this.#usedBlocks) break;
      this.#head++;
      s.running = true;
      s.blocks = need;
      this.#usedBlocks += need;
      running.push(s);
      prefillTokens += s.length;
    }
    if (this.#head > 4096 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    if (running.length === 0) {
      if (this.#stepping) this.#busyS += now - this.#busySince;
      this.#stepping = false;
      return;
    }
    if (!this.#stepping) {
      this.#stepping = true;
      this.#busySince = now;
    }
    const ms = this.#profile.decodeStepMs(running.length) + this.#profile.prefillMs(prefillTokens);
    this.#host.schedule(now + ms / 1000, this, STEP_END, undefined);
  }
}

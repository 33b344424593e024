// Virtual time for the dev runtime's engine tests: timers fire in deadline order as advance()
// moves the clock, so a test can run thousands of engine steps in microseconds, deterministically.
import type { EngineClock } from '../../../runtimes/dev/engine/engine-clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeClock implements EngineClock {
  #now = 0;
  #seq = 0;
  #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  at(atMs: number, fn: () => void): () => void {
    const timer: Timer = { at: Math.max(atMs, this.#now), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Runs every timer due within `ms`, in deadline order, then sets the clock to now + ms. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.fn();
    }
    this.#now = target;
  }

  get pendingTimers(): number {
    return this.#timers.length;
  }
}

// Time for the continuous-batching engine, injectable so tests (and a simulator) can run it in
// virtual time. Timers take absolute deadlines: a step that ends late does not push every later
// step back, so 1 ms timer granularity never accumulates across thousands of steps.

export interface EngineClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Calls `fn` at (or as soon as possible after) `atMs`; the returned function cancels it. */
  at(atMs: number, fn: () => void): () => void;
}

export const REAL_CLOCK: EngineClock = {
  now: () => performance.now(),
  at(atMs, fn) {
    const timer = setTimeout(fn, Math.max(0, atMs - performance.now()));
    return () => clearTimeout(timer);
  },
};

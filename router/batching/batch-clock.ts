// Time for the batcher: queue delays, deadlines (epoch milliseconds, as CallContext carries them)
// and the flush timers. Injected so unit tests run on a fake clock.
import { performance } from 'node:perf_hooks';

export interface BatchClock {
  /** Epoch milliseconds with sub-millisecond precision, comparable with CallContext.deadline. */
  now(): number;
  /** `ms` ≤ 0 runs `fn` after the I/O already received (setImmediate), not a whole timer tick later. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_CLOCK: BatchClock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => (ms <= 0 ? { immediate: setImmediate(fn) } : setTimeout(fn, ms)),
  clearTimeout: (handle) => {
    if (handle === undefined) return;
    if (typeof handle === 'object' && handle !== null && 'immediate' in handle) clearImmediate((handle as { immediate: NodeJS.Immediate }).immediate);
    else clearTimeout(handle as NodeJS.Timeout);
  },
};

// How busy the one simulated GPU was: the fraction of the last `windowMs` during which at least
// one execution or engine step ran on it. This is what Triton's nv_gpu_utilization (and DCGM's
// GPU_UTIL) report — time with a kernel running, not how much of the chip the kernels used.
import { REAL_CLOCK, type EngineClock } from './engine-clock.js';

export const GPU_UTILIZATION_WINDOW_MS = 1000;

export class GpuBusyMeter {
  readonly #clock: EngineClock;
  readonly #windowMs: number;
  /** Closed busy intervals that may still overlap the window, oldest first. */
  readonly #intervals: [start: number, end: number][] = [];
  #active = 0;
  #since = 0;

  constructor(clock: EngineClock = REAL_CLOCK, windowMs = GPU_UTILIZATION_WINDOW_MS) {
    this.#clock = clock;
    this.#windowMs = windowMs;
  }

  /** Work started on the GPU; pair with end(). Nested work counts once. */
  begin(): void {
    if (this.#active++ === 0) this.#since = this.#clock.now();
  }

  end(): void {
    if (this.#active === 0) return;
    if (--this.#active === 0) {
      this.#intervals.push([this.#since, this.#clock.now()]);
      this.#prune(this.#clock.now());
    }
  }

  /** Fraction 0..1 of the last window the GPU was busy. */
  utilization(): number {
    const now = this.#clock.now();
    const from = now - this.#windowMs;
    this.#prune(now);
    let busy = 0;
    for (const [start, end] of this.#intervals) busy += Math.max(0, Math.min(end, now) - Math.max(start, from));
    if (this.#active > 0) busy += now - Math.max(this.#since, from);
    return Math.min(1, Math.max(0, busy / this.#windowMs));
  }

  #prune(now: number): void {
    while (this.#intervals.length > 0 && (this.#intervals[0] as [number, number])[1] <= now - this.#windowMs) this.#intervals.shift();
  }
}

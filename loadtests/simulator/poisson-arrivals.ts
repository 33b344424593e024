// Arrival times of a non-homogeneous Poisson process with a piecewise-linear rate, by thinning
// (Lewis & Shedler 1979): candidates at the segment's peak rate, each kept with probability
// rate(t)/peak. Thinning per segment rather than over the whole trace keeps the acceptance high
// on traces whose peak is short (spike); the exponential's memorylessness makes restarting at a
// segment boundary exact.
import type { SeededRandom } from './seeded-random.js';
import type { Trace } from './trace.js';

export class PoissonArrivals {
  readonly #points: readonly (readonly [number, number])[];
  readonly #random: SeededRandom;
  #segment = 1;
  #t = 0;

  constructor(trace: Trace, random: SeededRandom) {
    this.#points = trace.points;
    this.#random = random;
  }

  /** The next arrival time in seconds, or undefined after the trace ends. */
  next(): number | undefined {
    const pts = this.#points;
    while (this.#segment < pts.length) {
      const a = pts[this.#segment - 1] as readonly [number, number];
      const b = pts[this.#segment] as readonly [number, number];
      const peak = Math.max(a[1], b[1]);
      if (peak <= 0) {
        this.#t = b[0];
        this.#segment++;
        continue;
      }
      const t = this.#t + this.#random.exponential(peak);
      if (t >= b[0]) {
        this.#t = b[0];
        this.#segment++;
        continue;
      }
      this.#t = t;
      const rate = a[1] + ((b[1] - a[1]) * (t - a[0])) / (b[0] - a[0]);
      if (this.#random.next() * peak < rate) return t;
    }
    return undefined;
  }
}

// Power of k choices over requests in flight (Envoy LEAST_REQUEST, k = 2 is P2C): sample k distinct
// candidates, the least busy wins. Sampling rather than scanning everyone keeps many routers from
// herding onto the one momentarily idle endpoint, and a pick costs O(k).
import type { PickerConfig } from '../../config/schema.js';
import type { EndpointLoad, Picker, Random } from './picker.js';

export type LeastRequestConfig = Extract<PickerConfig, { type: 'least-request' }>;

export class LeastRequestPicker implements Picker {
  readonly #choices: number;
  readonly #random: Random;
  /** Scratch for the sampled indices (picks are synchronous, so one buffer per picker is safe). */
  readonly #sample: number[] = [];

  constructor(config: Pick<LeastRequestConfig, 'choices'> = { choices: 2 }, random: Random = Math.random) {
    if (!Number.isInteger(config.choices) || config.choices < 1) throw new RangeError(`choices must be a positive integer, got ${config.choices}`);
    this.#choices = config.choices;
    this.#random = random;
  }

  pick(candidates: readonly EndpointLoad[]): EndpointLoad | undefined {
    const n = candidates.length;
    const k = this.#choices;
    if (n <= k) return this.#leastOf(candidates, n, (i) => i);
    // Floyd's algorithm: k distinct indices in exactly k draws, no rejection loop.
    const sample = this.#sample;
    sample.length = 0;
    for (let j = n - k; j < n; j++) {
      const t = Math.floor(this.#random() * (j + 1));
      sample.push(sample.includes(t) ? j : t);
    }
    return this.#leastOf(candidates, k, (i) => sample[i] ?? 0);
  }

  /** Least in flight among `count` candidates chosen by `at`; ties broken uniformly at random (reservoir sampling). */
  #leastOf(candidates: readonly EndpointLoad[], count: number, at: (i: number) => number): EndpointLoad | undefined {
    let best: EndpointLoad | undefined;
    let ties = 0;
    for (let i = 0; i < count; i++) {
      const c = candidates[at(i)];
      if (c === undefined) continue;
      if (best === undefined || c.inFlight < best.inFlight) {
        best = c;
        ties = 1;
      } else if (c.inFlight === best.inFlight) {
        ties += 1;
        if (this.#random() * ties < 1) best = c;
      }
    }
    return best;
  }
}

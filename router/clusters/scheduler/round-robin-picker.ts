// Strict rotation in address order. The picker remembers only the last address it chose and takes
// the next larger one among today's candidates, so endpoints joining, leaving or being skipped for
// one pick (tried, ejected, at the breaker) neither reset the rotation nor give anyone a double turn.
import type { EndpointLoad, Picker, Random } from './picker.js';

export class RoundRobinPicker implements Picker {
  readonly #random: Random;
  #last: string | undefined;

  /** `random` chooses only where the first rotation starts, so router replicas do not march in step. */
  constructor(random: Random = Math.random) {
    this.#random = random;
  }

  pick(candidates: readonly EndpointLoad[]): EndpointLoad | undefined {
    if (candidates.length === 0) return undefined;
    let chosen: EndpointLoad | undefined;
    if (this.#last === undefined) {
      chosen = candidates[Math.floor(this.#random() * candidates.length)];
    } else {
      // One O(n) pass, no sort: the smallest address after the last one, else the smallest (wrap).
      const last = this.#last;
      let next: EndpointLoad | undefined;
      let first: EndpointLoad | undefined;
      for (const c of candidates) {
        const a = c.endpoint.address;
        if (first === undefined || a < first.endpoint.address) first = c;
        if (a > last && (next === undefined || a < next.endpoint.address)) next = c;
      }
      chosen = next ?? first;
    }
    if (chosen !== undefined) this.#last = chosen.endpoint.address;
    return chosen;
  }
}

// Latency distribution with bounded memory: log-spaced buckets 1 % wide from 1 µs to ~3 h, so a
// quantile is exact to ±0.5 % whatever the number of requests (tens of millions for ResNet), and
// the mean and max are exact. Same inputs ⇒ same buckets ⇒ same JSON.

const MIN_MS = 0.001;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = 2200; // 0.001 ms × 1.01^2200 ≈ 3.2e6 s

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  record(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH) + 1);
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
  }

  get count(): number {
    return this.#count;
  }

  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  get max(): number {
    return this.#max;
  }

  /** The q-quantile (0..1): the geometric middle of the bucket holding it; 0 when empty. */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return i === 0 ? MIN_MS : Math.min(this.#max, MIN_MS * GROWTH ** (i - 0.5));
    }
    return this.#max;
  }

  /** Share of recorded values above `ms` (bucket resolution). */
  countAbove(ms: number): number {
    const edge = ms <= MIN_MS ? 0 : Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH) + 1;
    let n = 0;
    for (let i = edge + 1; i < BUCKETS; i++) n += this.#counts[i] ?? 0;
    return n;
  }
}

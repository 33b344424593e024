// Deterministic randomness for statistical tests: the same seed gives the same sequence, so a bound
// that passes once passes every run. mulberry32 is the dev runtime's own PRNG, reused here.
export { mulberry32 as seededRandom } from '../../runtimes/dev/models/tiny-llm/tiny-llm-generator.js';

/** The ±6σ interval of a binomial count: n trials with probability p. */
export function binomialBounds(n: number, p: number): [number, number] {
  const sigma = Math.sqrt(n * p * (1 - p));
  return [Math.floor(n * p - 6 * sigma), Math.ceil(n * p + 6 * sigma)];
}

// A seeded PRNG for routing tests (mulberry32): the same seed gives the same sequence, so a
// statistical bound that passes once passes every run.
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The ±6σ interval of a binomial count: n trials with probability p. */
export function binomialBounds(n: number, p: number): [number, number] {
  const sigma = Math.sqrt(n * p * (1 - p));
  return [Math.floor(n * p - 6 * sigma), Math.ceil(n * p + 6 * sigma)];
}

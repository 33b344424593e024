// Back-off between retry attempts: exponential growth with AWS "full jitter", so retries from many
// requests that failed together (one replica dying) spread out instead of arriving as a second wave.

/**
 * Milliseconds to wait before retry number `retry` (1 = the first retry): a uniform draw from
 * [0, min(maxMs, baseMs × 2^(retry−1))), rounded down to whole ms. No wait before the first attempt
 * (retry < 1) or when either bound is 0.
 */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  if (!(retry >= 1)) return 0;
  // 2 ** large is Infinity, which min() clamps to maxMs: no overflow guard needed.
  const ceiling = Math.max(0, Math.min(maxMs, baseMs * 2 ** (Math.floor(retry) - 1)));
  if (ceiling === 0) return 0;
  // random() is in [0, 1); clamp anyway so an injected source returning 1 cannot exceed the bound.
  return Math.min(Math.floor(random() * ceiling), Math.ceil(ceiling) - 1);
}

// OpenAI's rate-limit headers, so its SDKs and users' dashboards read Switchyard's limits as
// OpenAI's: x-ratelimit-{limit,remaining,reset}-{requests,tokens}, resets as Go durations ("1s",
// "6m0s", "250ms") the way api.openai.com writes them.

export interface WindowState {
  readonly limit: number;
  readonly remaining: number;
  /** Milliseconds until the window is clear of its current entries. */
  readonly resetMs: number;
}

/** The tightest request window and the tightest token window a request fell under. */
export interface RateLimitState {
  readonly requests?: WindowState | undefined;
  readonly tokens?: WindowState | undefined;
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const kind of ['requests', 'tokens'] as const) {
    const window = state[kind];
    if (window === undefined) continue;
    headers[`x-ratelimit-limit-${kind}`] = String(window.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, window.remaining));
    headers[`x-ratelimit-reset-${kind}`] = formatDuration(window.resetMs);
  }
  return headers;
}

/** Go's time.Duration.String() at millisecond precision: 0s, 20ms, 1s, 1.5s, 6m0s, 1h2m3.004s. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const millis = total % 60_000;
  const whole = Math.floor(millis / 1000);
  const fraction = millis % 1000 === 0 ? '' : `.${String(millis % 1000).padStart(3, '0').replace(/0+$/, '')}`;
  const seconds = `${whole}${fraction}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/** The window to report among several: the one with least left (then the smaller limit). */
export function tightest(windows: readonly WindowState[]): WindowState | undefined {
  let best: WindowState | undefined;
  for (const w of windows) {
    if (best === undefined || w.remaining < best.remaining || (w.remaining === best.remaining && w.limit < best.limit)) best = w;
  }
  return best;
}

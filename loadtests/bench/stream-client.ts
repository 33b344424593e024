// Streaming load: SSE chat completions timed at the client, event by event.
//   timedStreams — streams started at a fixed rate; per stream the time to first token (from the
//                  scheduled start to the first event with non-empty `content`) and the gaps
//                  between content events (inter-token latency);
//   holdStreams  — N streams opened together and held open (a slow token interval upstream),
//                  counted as streaming once their first token arrived, then dropped at once.
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

/** An SSE event carrying generated text: `"content":"` followed by at least one character. */
const CONTENT_EVENT = /"content":"[^"]/;

export interface StreamTarget {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly model: string;
}

function streamBody(model: string, maxTokens: number): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: maxTokens, stream: true });
}

interface StreamTiming {
  readonly ok: boolean;
  readonly ttftMs: number;
  /** Milliseconds between consecutive content events. */
  readonly gaps: number[];
  readonly contentEvents: number;
}

/** Reads one SSE response, calling onFirstToken once; resolves when it ends (or rejects on a transport error). */
async function readStream(
  pool: Pool,
  target: StreamTarget,
  maxTokens: number,
  scheduled: number,
  signal: AbortSignal | undefined,
  onFirstToken?: () => void,
): Promise<StreamTiming> {
  const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: target.headers, body: streamBody(target.model, maxTokens), signal });
  let buffer = '';
  let first = Number.NaN;
  let last = Number.NaN;
  const gaps: number[] = [];
  let contentEvents = 0;
  let done = false;
  for await (const chunk of res.body) {
    const now = performance.now();
    buffer += (chunk as Buffer).toString('utf8');
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      if (event.startsWith('data: [DONE]')) {
        done = true;
        continue;
      }
      if (!CONTENT_EVENT.test(event)) continue;
      contentEvents++;
      if (Number.isNaN(first)) {
        first = now;
        onFirstToken?.();
      } else gaps.push(now - last);
      last = now;
    }
  }
  return { ok: res.statusCode === 200 && done && contentEvents > 0, ttftMs: first - scheduled, gaps, contentEvents };
}

export interface TimedStreamsResult {
  readonly sent: number;
  readonly ok: number;
  readonly errors: number;
  /** Per good stream, ascending. */
  readonly ttftMs: number[];
  /** Per good stream: mean gap between its content events, ascending. */
  readonly meanItlMs: number[];
  /** Every gap of every good stream, ascending. */
  readonly gapsMs: number[];
  /** Content events per good stream (should be max_tokens everywhere). */
  readonly tokensPerStream: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function timedStreams(target: StreamTarget, rate: number, durationS: number, maxTokens: number): Promise<TimedStreamsResult> {
  const pool = new Pool(target.url, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const ttft: number[] = [];
  const itl: number[] = [];
  const gaps: number[] = [];
  let tokens = 0;
  let ok = 0;
  let errors = 0;
  const all: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.max(1, Math.round(rate * durationS));
  for (let i = 0; i < total; i++) {
    const scheduled = start + (i * 1000) / rate;
    const wait = scheduled - performance.now();
    if (wait >= 1) await sleep(Math.floor(wait));
    all.push(
      readStream(pool, target, maxTokens, scheduled, AbortSignal.timeout(30_000)).then(
        (t) => {
          if (!t.ok) {
            errors++;
            return;
          }
          ok++;
          tokens += t.contentEvents;
          ttft.push(t.ttftMs);
          if (t.gaps.length > 0) itl.push(t.gaps.reduce((a, b) => a + b, 0) / t.gaps.length);
          gaps.push(...t.gaps);
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(all);
  await pool.destroy();
  const asc = (a: number, b: number) => a - b;
  return { sent: total, ok, errors, ttftMs: ttft.sort(asc), meanItlMs: itl.sort(asc), gapsMs: gaps.sort(asc), tokensPerStream: ok === 0 ? 0 : tokens / ok };
}

export interface HeldStreamsResult {
  readonly wanted: number;
  /** Streams whose first token arrived: all of these were open at once when `sample` ran. */
  readonly streaming: number;
  /** Streams that failed before the sample (status, transport error). */
  readonly failed: number;
  /** Seconds from the first open to the last first token (or to the timeout). */
  readonly openS: number;
}

/**
 * Opens `n` streams (spread over rampS), waits until every one has its first token or timeoutS
 * passed, runs `sample` while they are all open, then drops every connection.
 */
export async function holdStreams(target: StreamTarget, n: number, maxTokens: number, rampS: number, timeoutS: number, sample: () => Promise<void>): Promise<HeldStreamsResult> {
  const pool = new Pool(target.url, { connections: n + 16, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // one listener per held stream
  let started = 0; // first token seen
  let open = 0; // first token seen and not ended yet
  let failed = 0;
  const t0 = performance.now();
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const at = t0 + (i * rampS * 1000) / n;
    const wait = at - performance.now();
    if (wait >= 1) await sleep(Math.floor(wait));
    let counted = false;
    const end = () => {
      if (counted) open--;
      else if (!controller.signal.aborted) failed++;
    };
    all.push(
      readStream(pool, target, maxTokens, at, controller.signal, () => {
        counted = true;
        started++;
        open++;
      }).then(end, end),
    );
  }
  const deadline = t0 + timeoutS * 1000;
  while (started + failed < n && performance.now() < deadline) await sleep(50);
  const openS = (performance.now() - t0) / 1000;
  const openAtSample = open;
  await sample();
  controller.abort();
  await pool.destroy();
  await Promise.allSettled(all);
  return { wanted: n, streaming: openAtSample, failed, openS };
}

// Streaming chat completions (POST /v1/chat/completions, stream: true) through the router.
//
// SSE timing: k6 has no SSE client, so each request is an ordinary http.post that reads the whole
// streamed body; the `data:` events are parsed afterwards. Timings come from res.timings:
//   switchyard_ttft  = timings.waiting (time to the first response byte). The router sends the status
//                      line and headers together with the first chunk (a failure before the first result
//                      is still an HTTP error, docs/OPENAI.md), so this is ≈ time to first token, plus the
//                      first chunk's write. It is not a per-event timestamp.
//   switchyard_itl   = (timings.receiving) / (completion_tokens − 1): the mean gap between tokens of that
//                      response (an approximation: no per-token timestamps, no jitter/percentile of gaps
//                      within a response).
//   switchyard_tokens_per_s = completion_tokens / (waiting + receiving) per response.
// Token counts are the router's exact usage (stream_options.include_usage), not a chunk count.
//
//   k6 run loadtests/k6/openai-chat-stream.js                       (SCENARIO=smoke)
//   SCENARIO=constant RATE=20 DURATION=2m k6 run loadtests/k6/openai-chat-stream.js
// Env: BASE_URL, SCENARIO, RATE, DURATION, HOLD, PRE_VUS, MAX_VUS, MODELS (comma-separated, round-robin;
// default tiny-llm,tiny-llm-trt,tiny-llm-vllm), MAX_TOKENS (16), TTFT_P95_MS (500), TIMEOUT (60s).
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import { BASE_URL, postJson, safeJson, scenarios, summary, SUMMARY_TREND_STATS } from './lib/common.js';

const MODELS = (__ENV.MODELS || 'tiny-llm,tiny-llm-trt,tiny-llm-vllm').split(',').map((m) => m.trim()).filter(Boolean);
const MAX_TOKENS = Number(__ENV.MAX_TOKENS || 16);

const ttft = new Trend('switchyard_ttft', true);
const itl = new Trend('switchyard_itl', true);
const tokensPerS = new Trend('switchyard_tokens_per_s');
const streamTokens = new Counter('switchyard_stream_tokens');
const streamErrors = new Rate('switchyard_stream_errors');

export const options = {
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: scenarios({ rate: 10, preVus: 20, maxVus: 200, smoke: { vus: 2, duration: '4s' } }),
  thresholds: {
    switchyard_stream_errors: ['rate==0'],
    checks: ['rate==1'],
    switchyard_ttft: [`p(95)<${Number(__ENV.TTFT_P95_MS || 500)}`],
    switchyard_stream_tokens: ['count>0'],
    http_req_failed: ['rate==0'],
  },
};

/** The `data:` payloads of an SSE body, in order. */
function sseData(body) {
  const out = [];
  for (const event of String(body || '').split('\n\n')) {
    const data = event
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data !== '') out.push(data);
  }
  return out;
}

export default function () {
  const model = MODELS[exec.scenario.iterationInTest % MODELS.length];
  const res = postJson(
    `${BASE_URL}/v1/chat/completions`,
    {
      model,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: MAX_TOKENS,
      messages: [{ role: 'user', content: 'Say hello to the load test' }],
    },
    { timeout: __ENV.TIMEOUT || '60s', tags: { model, name: 'chat-stream' } },
  );

  const events = res.status === 200 ? sseData(res.body) : [];
  const done = events.length > 0 && events[events.length - 1] === '[DONE]';
  let usage;
  let text = '';
  let errorEvent = false;
  let finish;
  for (const data of events) {
    if (data === '[DONE]') continue;
    let chunk;
    try {
      chunk = JSON.parse(data);
    } catch (_) {
      errorEvent = true;
      continue;
    }
    if (chunk.error) errorEvent = true;
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices && chunk.choices[0];
    if (choice && choice.delta && typeof choice.delta.content === 'string') text += choice.delta.content;
    if (choice && choice.finish_reason) finish = choice.finish_reason;
  }
  const tokens = usage ? usage.completion_tokens : 0;

  const ok = check(res, {
    'status 200': (r) => r.status === 200,
    'content-type text/event-stream': (r) => String(r.headers['Content-Type'] || '').startsWith('text/event-stream'),
    'ends with data: [DONE]': () => done,
    'no error event': () => !errorEvent,
    'has text and a finish_reason': () => text.length > 0 && finish !== undefined,
    'usage.completion_tokens > 0': () => tokens > 0,
  });
  streamErrors.add(!ok, { model });
  if (!ok) {
    if (res.status !== 200) console.warn(`${model}: HTTP ${res.status} ${res.error || ''} ${JSON.stringify(safeJson(res) || res.body).slice(0, 300)}`);
    return;
  }

  ttft.add(res.timings.waiting, { model });
  streamTokens.add(tokens, { model });
  if (tokens > 1) itl.add(res.timings.receiving / (tokens - 1), { model });
  const genMs = res.timings.waiting + res.timings.receiving;
  if (genMs > 0) tokensPerS.add((tokens * 1000) / genMs, { model });
}

export const handleSummary = summary('openai-chat-stream');

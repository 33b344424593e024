// Non-streaming chat completions (POST /v1/chat/completions) through the router.
//
//   k6 run loadtests/k6/openai-chat.js                              (SCENARIO=smoke)
//   SCENARIO=ramp RATE=50 DURATION=1m k6 run loadtests/k6/openai-chat.js
// Env: BASE_URL, SCENARIO, RATE, DURATION, HOLD, PRE_VUS, MAX_VUS, MODELS (comma-separated, round-robin;
// default tiny-llm,tiny-llm-trt,tiny-llm-vllm), MAX_TOKENS (16), P95_MS (2000), TIMEOUT (60s).
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import { BASE_URL, postJson, safeJson, scenarios, summary, SUMMARY_TREND_STATS } from './lib/common.js';

const MODELS = (__ENV.MODELS || 'tiny-llm,tiny-llm-trt,tiny-llm-vllm').split(',').map((m) => m.trim()).filter(Boolean);
const MAX_TOKENS = Number(__ENV.MAX_TOKENS || 16);

const completionTokens = new Counter('switchyard_completion_tokens');
const msPerToken = new Trend('switchyard_ms_per_token', true);
const chatErrors = new Rate('switchyard_chat_errors');

export const options = {
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: scenarios({ rate: 10, preVus: 20, maxVus: 200, smoke: { vus: 2, duration: '4s' } }),
  thresholds: {
    switchyard_chat_errors: ['rate==0'],
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
    http_req_duration: [`p(95)<${Number(__ENV.P95_MS || 2000)}`],
    switchyard_completion_tokens: ['count>0'],
  },
};

export default function () {
  const model = MODELS[exec.scenario.iterationInTest % MODELS.length];
  const res = postJson(
    `${BASE_URL}/v1/chat/completions`,
    { model, max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: 'Say hello to the load test' }] },
    { timeout: __ENV.TIMEOUT || '60s', tags: { model, name: 'chat' } },
  );
  const body = res.status === 200 ? safeJson(res) : undefined;
  const tokens = body && body.usage ? body.usage.completion_tokens : 0;
  const ok = check(res, {
    'status 200': (r) => r.status === 200,
    'object chat.completion': () => body !== undefined && body.object === 'chat.completion',
    'has message content': () => body !== undefined && typeof body.choices[0].message.content === 'string' && body.choices[0].message.content.length > 0,
    'usage.completion_tokens > 0': () => tokens > 0,
  });
  chatErrors.add(!ok, { model });
  if (!ok) {
    console.warn(`${model}: HTTP ${res.status} ${res.error || ''} ${String(res.body).slice(0, 300)}`);
    return;
  }
  completionTokens.add(tokens, { model });
  msPerToken.add(res.timings.duration / tokens, { model });
}

export const handleSummary = summary('openai-chat');

// KServe V2 REST inference on iris (POST /v2/models/iris/infer) through the router.
//
//   k6 run loadtests/k6/kserve-rest-infer.js                        (SCENARIO=smoke)
//   SCENARIO=constant RATE=500 DURATION=1m k6 run loadtests/k6/kserve-rest-infer.js
// Env: BASE_URL, SCENARIO, RATE, DURATION, HOLD, PRE_VUS, MAX_VUS, MODEL (iris), BATCH (rows per
// request, 1), P95_MS (200), TIMEOUT (10s).
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import { BASE_URL, postJson, scenarios, summary, SUMMARY_TREND_STATS, safeJson } from './lib/common.js';

const MODEL = __ENV.MODEL || 'iris';
const BATCH = Number(__ENV.BATCH || 1);
const ROW = [5.1, 3.5, 1.4, 0.2];
const BODY = { inputs: [{ name: 'input', datatype: 'FP32', shape: [BATCH, 4], data: Array.from({ length: BATCH }, () => ROW).flat() }] };

const rows = new Counter('switchyard_infer_rows');
const inferErrors = new Rate('switchyard_infer_errors');

export const options = {
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: scenarios({ rate: 200, preVus: 20, maxVus: 200, smoke: { vus: 2, duration: '3s' } }),
  thresholds: {
    switchyard_infer_errors: ['rate==0'],
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
    http_req_duration: [`p(95)<${Number(__ENV.P95_MS || 200)}`],
  },
};

export default function () {
  const res = postJson(`${BASE_URL}/v2/models/${MODEL}/infer`, BODY, { timeout: __ENV.TIMEOUT || '10s', tags: { name: 'v2-infer' } });
  const body = res.status === 200 ? safeJson(res) : undefined;
  const out = body && Array.isArray(body.outputs) ? body.outputs[0] : undefined;
  const ok = check(res, {
    'status 200': (r) => r.status === 200,
    'model_name echoed': () => body !== undefined && body.model_name === MODEL,
    'an output with one row per input row': () => out !== undefined && Number(out.shape[0]) === BATCH && Array.isArray(out.data) && out.data.length > 0,
  });
  inferErrors.add(!ok);
  if (!ok) console.warn(`HTTP ${res.status} ${res.error || ''} ${String(res.body).slice(0, 300)}`);
  else rows.add(BATCH);
}

export const handleSummary = summary('kserve-rest-infer');

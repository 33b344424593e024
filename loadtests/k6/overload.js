// Overload: arrivals well past the router's capacity (loadtests/k6/configs/overload.yaml:
// limits.maxInFlight 4 in front of a slow dev runtime). What must hold: nothing times out; every
// refused request is a fast 503 (maxInFlight) or 429 (a full batching queue / rate limit) with a
// Retry-After header; the admitted ones succeed.
//
//   k6 run loadtests/k6/overload.js                                  (SCENARIO=smoke: 40 req/s for 4 s)
//   SCENARIO=ramp RATE=500 DURATION=1m k6 run loadtests/k6/overload.js
// The smoke scenario is an arrival rate, not 1–2 VUs: closed-loop VUs can never exceed maxInFlight 4.
// Env: BASE_URL, SCENARIO, RATE, DURATION, HOLD, PRE_VUS, MAX_VUS, MODEL (iris), SHED_P99_MS (250: p99
// of the shed responses' duration), TIMEOUT (5s: a request not answered by then is a timeout).
import { check } from 'k6';
import http from 'k6/http';
import { Rate, Trend } from 'k6/metrics';
import { BASE_URL, header, postJson, scenarios, summary, SUMMARY_TREND_STATS } from './lib/common.js';

const MODEL = __ENV.MODEL || 'iris';
const BODY = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };

const shed = new Rate('switchyard_shed');
const shedDuration = new Trend('switchyard_shed_duration', true);
const shedRetryAfter = new Rate('switchyard_shed_retry_after');
const timeouts = new Rate('switchyard_timeouts');
const unexpected = new Rate('switchyard_unexpected_status');

// 429/503 are the expected answers here: http_req_failed counts only the others (and timeouts).
http.setResponseCallback(http.expectedStatuses(200, 429, 503));

export const options = {
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: scenarios({ rate: 200, preVus: 50, maxVus: 300, smoke: { rate: 40, duration: '4s', preVus: 10, maxVus: 40 } }),
  thresholds: {
    switchyard_timeouts: ['rate==0'],
    checks: ['rate==1'],
    switchyard_unexpected_status: ['rate==0'],
    switchyard_shed: ['rate>0'], // the load did exceed capacity, or nothing was tested
    switchyard_shed_retry_after: ['rate==1'],
    switchyard_shed_duration: [`p(99)<${Number(__ENV.SHED_P99_MS || 250)}`],
    http_req_failed: ['rate==0'],
  },
};

export default function () {
  const res = postJson(`${BASE_URL}/v2/models/${MODEL}/infer`, BODY, { timeout: __ENV.TIMEOUT || '5s', tags: { name: 'v2-infer-overload' } });
  // status 0: no answer — k6's request timeout (error_code 1050) or a broken connection.
  const timedOut = res.status === 0;
  const refused = res.status === 503 || res.status === 429;
  timeouts.add(timedOut);
  unexpected.add(!timedOut && !refused && res.status !== 200);
  shed.add(refused);
  if (refused) {
    shedDuration.add(res.timings.duration);
    shedRetryAfter.add(/^\d+$/.test(String(header(res, 'retry-after') || '')));
  }
  check(res, {
    'answered (no timeout)': () => !timedOut,
    '200, or 503/429 with Retry-After': (r) => r.status === 200 || (refused && header(r, 'retry-after') !== undefined),
  });
  if (timedOut) console.warn(`no answer: ${res.error} (${res.error_code})`);
}

export const handleSummary = summary('overload');

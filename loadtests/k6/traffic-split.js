// Traffic split: iris behind a 90/10 split (loadtests/k6/configs/split.yaml, variants `stable` and
// `canary`); every answer's x-switchyard-variant header is counted and the canary's share must be
// within CANARY_SHARE ± SHARE_TOLERANCE.
//
//   node --import tsx router/main.ts --config loadtests/k6/configs/split.yaml   (and a dev runtime)
//   k6 run loadtests/k6/traffic-split.js                            (SCENARIO=smoke)
// Env: BASE_URL, SCENARIO, RATE, DURATION, HOLD, PRE_VUS, MAX_VUS, MODEL (iris), VARIANTS (stable,canary),
// CANARY (canary), CANARY_SHARE (0.1), SHARE_TOLERANCE (0.05; the smoke sends ~1000 requests, so ±0.05
// is about ±5 standard deviations), TIMEOUT (10s).
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import { BASE_URL, header, postJson, scenarios, summary, SUMMARY_TREND_STATS } from './lib/common.js';

const MODEL = __ENV.MODEL || 'iris';
const VARIANTS = (__ENV.VARIANTS || 'stable,canary').split(',').map((v) => v.trim());
const CANARY = __ENV.CANARY || 'canary';
const SHARE = Number(__ENV.CANARY_SHARE || 0.1);
const TOLERANCE = Number(__ENV.SHARE_TOLERANCE || 0.05);
const BODY = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };

const canaryShare = new Rate('switchyard_variant_canary');
const unknownVariant = new Rate('switchyard_variant_unknown');
const byVariant = new Counter('switchyard_variant_answers');

export const options = {
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: scenarios({ rate: 200, preVus: 20, maxVus: 200, smoke: { vus: 2, duration: '4s' } }),
  thresholds: {
    switchyard_variant_canary: [`rate>${Math.max(0, SHARE - TOLERANCE).toFixed(4)}`, `rate<${Math.min(1, SHARE + TOLERANCE).toFixed(4)}`],
    switchyard_variant_unknown: ['rate==0'],
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
    // Per-variant answer counts in the summary (a threshold makes k6 keep the tagged sub-metric).
    ...Object.fromEntries(VARIANTS.map((v) => [`switchyard_variant_answers{variant:${v}}`, ['count>=0']])),
  },
};

export default function () {
  const res = postJson(`${BASE_URL}/v2/models/${MODEL}/infer`, BODY, { timeout: __ENV.TIMEOUT || '10s', tags: { name: 'v2-infer-split' } });
  const variant = header(res, 'x-switchyard-variant');
  const ok = check(res, {
    'status 200': (r) => r.status === 200,
    'x-switchyard-variant is a configured variant': () => VARIANTS.includes(variant),
  });
  if (!ok) console.warn(`HTTP ${res.status} variant=${variant} ${res.error || ''} ${String(res.body).slice(0, 200)}`);
  unknownVariant.add(!VARIANTS.includes(variant));
  if (res.status !== 200 || variant === undefined) return;
  canaryShare.add(variant === CANARY);
  byVariant.add(1, { variant });
}

export const handleSummary = summary('traffic-split');

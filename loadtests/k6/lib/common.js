// Shared by the k6 scripts in loadtests/k6/: scenario selection (env SCENARIO), base URLs, and a
// handleSummary that writes loadtests/results/<script>-<scenario>.json. k6 v1 API, plain JavaScript.
import http from 'k6/http';

export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');
export const GRPC_TARGET = __ENV.GRPC_TARGET || '127.0.0.1:8001';
export const SCENARIO = __ENV.SCENARIO || 'smoke';
/** Trend stats in the summaries (k6's default has no p(99)). */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'];
const RESULTS_DIR = (__ENV.RESULTS_DIR || 'loadtests/results').replace(/\/+$/, '');

function num(name, fallback) {
  const value = __ENV[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${value}`);
  return n;
}

/**
 * The k6 `scenarios` option for SCENARIO:
 *   smoke    — `smoke.vus` (1–2) closed-loop VUs for `smoke.duration` (a few seconds); what CI runs.
 *              A script may give `smoke.rate` instead: a constant arrival rate (overload needs one).
 *   constant — constant-arrival-rate: RATE iterations/s (default `defaults.rate`) for DURATION (1m).
 *   ramp     — ramping-arrival-rate: from 1/s up to RATE over DURATION, held for HOLD (30s), down over 10s.
 * VUs for the arrival-rate executors: PRE_VUS (default `defaults.preVus`), MAX_VUS (default `defaults.maxVus`).
 */
export function scenarios(defaults) {
  const rate = num('RATE', defaults.rate);
  const duration = __ENV.DURATION || defaults.duration || '1m';
  const preAllocatedVUs = num('PRE_VUS', defaults.preVus || 10);
  const maxVUs = num('MAX_VUS', defaults.maxVus || 100);
  const smoke = defaults.smoke || {};
  switch (SCENARIO) {
    case 'smoke':
      if (smoke.rate !== undefined) {
        return {
          smoke: {
            executor: 'constant-arrival-rate',
            rate: smoke.rate,
            timeUnit: '1s',
            duration: smoke.duration || '4s',
            preAllocatedVUs: smoke.preVus || 5,
            maxVUs: smoke.maxVus || 20,
          },
        };
      }
      return { smoke: { executor: 'constant-vus', vus: smoke.vus || 1, duration: smoke.duration || '4s' } };
    case 'constant':
      return { constant: { executor: 'constant-arrival-rate', rate, timeUnit: '1s', duration, preAllocatedVUs, maxVUs } };
    case 'ramp':
      return {
        ramp: {
          executor: 'ramping-arrival-rate',
          startRate: 1,
          timeUnit: '1s',
          preAllocatedVUs,
          maxVUs,
          stages: [
            { target: rate, duration },
            { target: rate, duration: __ENV.HOLD || '30s' },
            { target: 0, duration: '10s' },
          ],
        },
      };
    default:
      throw new Error(`SCENARIO must be smoke, constant or ramp, got '${SCENARIO}'`);
  }
}

/** POST JSON; `params` are merged (headers too). */
export function postJson(url, body, params = {}) {
  return http.post(url, JSON.stringify(body), {
    ...params,
    headers: { 'content-type': 'application/json', ...(params.headers || {}) },
  });
}

/** A header by name, case-insensitively (k6 canonicalizes names: X-Switchyard-Variant). */
export function header(res, name) {
  const wanted = name.toLowerCase();
  for (const key of Object.keys(res.headers || {})) {
    if (key.toLowerCase() === wanted) return res.headers[key];
  }
  return undefined;
}

export function safeJson(res) {
  try {
    return res.json();
  } catch (_) {
    return undefined;
  }
}

/** Threshold results by metric: { metric: { expression: passed } }, and whether all passed. */
function thresholdResults(data) {
  const out = {};
  let passed = true;
  for (const [metric, m] of Object.entries(data.metrics)) {
    if (!m.thresholds) continue;
    out[metric] = {};
    for (const [expr, t] of Object.entries(m.thresholds)) {
      out[metric][expr] = t.ok;
      if (!t.ok) passed = false;
    }
  }
  return { out, passed };
}

function fmt(metric) {
  const v = metric.values;
  if (metric.type === 'trend') return `avg=${v.avg.toFixed(2)} p(50)=${(v.med ?? 0).toFixed(2)} p(95)=${v['p(95)'].toFixed(2)} p(99)=${(v['p(99)'] ?? 0).toFixed(2)} max=${v.max.toFixed(2)}`;
  if (metric.type === 'rate') return `rate=${(v.rate * 100).toFixed(2)}% (${v.passes}/${v.passes + v.fails})`;
  if (metric.type === 'counter') return `count=${v.count} rate=${v.rate.toFixed(2)}/s`;
  return Object.entries(v).map(([k, x]) => `${k}=${x}`).join(' ');
}

/**
 * handleSummary for a script: the JSON file (k6's summary data under `metrics`, `root_group`, `state`,
 * plus `switchyard`: script, scenario, targets, thresholds and whether all passed) and a short text
 * summary on stdout (the script's own metrics, checks and thresholds).
 */
export function summary(script) {
  return (data) => {
    const { out, passed } = thresholdResults(data);
    const doc = {
      switchyard: { script, scenario: SCENARIO, baseUrl: BASE_URL, grpcTarget: GRPC_TARGET, thresholdsPassed: passed, thresholds: out },
      metrics: data.metrics,
      root_group: data.root_group,
      state: data.state,
      options: data.options,
    };
    const lines = [`\n${script} (${SCENARIO}) against ${script.includes('grpc') ? GRPC_TARGET : BASE_URL}: thresholds ${passed ? 'passed' : 'FAILED'}`];
    for (const [name, metric] of Object.entries(data.metrics).sort(([a], [b]) => a.localeCompare(b))) {
      if (!(name.startsWith('switchyard_') || ['checks', 'http_req_duration', 'http_req_failed', 'grpc_req_duration', 'iterations'].includes(name) || metric.thresholds)) continue;
      const marks = metric.thresholds ? ' ' + Object.entries(metric.thresholds).map(([e, t]) => `${t.ok ? '✓' : '✗'} ${e}`).join(', ') : '';
      lines.push(`  ${name.padEnd(32)} ${fmt(metric)}${marks}`);
    }
    const file = `${RESULTS_DIR}/${script}-${SCENARIO}.json`;
    lines.push(`  summary: ${file}\n`);
    return { [file]: JSON.stringify(doc, null, 2), stdout: lines.join('\n') + '\n' };
  };
}

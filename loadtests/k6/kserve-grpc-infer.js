// KServe V2 gRPC inference on iris (inference.GRPCInferenceService/ModelInfer) through the router's
// client gRPC listener, with typed contents (fp32_contents). Uses k6/net/grpc and the repo's protos.
//
//   k6 run loadtests/k6/kserve-grpc-infer.js                        (SCENARIO=smoke)
//   SCENARIO=constant RATE=500 DURATION=1m GRPC_TARGET=host:8001 k6 run loadtests/k6/kserve-grpc-infer.js
// Env: GRPC_TARGET (127.0.0.1:8001), PROTO_DIR (the directory of grpc_service.proto, relative to this
// script; default ../../protos), SCENARIO, RATE, DURATION, HOLD, PRE_VUS, MAX_VUS, MODEL (iris),
// BATCH (rows, 1), P95_MS (200), TIMEOUT (10s).
import { check } from 'k6';
import exec from 'k6/execution';
import grpc from 'k6/net/grpc';
import { Counter, Rate } from 'k6/metrics';
import { GRPC_TARGET, scenarios, summary, SUMMARY_TREND_STATS } from './lib/common.js';

const MODEL = __ENV.MODEL || 'iris';
const BATCH = Number(__ENV.BATCH || 1);
const ROW = [5.1, 3.5, 1.4, 0.2];

const client = new grpc.Client();
// k6 resolves the import path against this script's directory: ../../protos is the repo's protos/.
client.load([__ENV.PROTO_DIR || '../../protos'], 'grpc_service.proto');

const rows = new Counter('switchyard_infer_rows');
const inferErrors = new Rate('switchyard_infer_errors');

export const options = {
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: scenarios({ rate: 200, preVus: 20, maxVus: 200, smoke: { vus: 2, duration: '3s' } }),
  thresholds: {
    switchyard_infer_errors: ['rate==0'],
    checks: ['rate==1'],
    grpc_req_duration: [`p(95)<${Number(__ENV.P95_MS || 200)}`],
  },
};

const REQUEST = {
  model_name: MODEL,
  inputs: [
    {
      name: 'input',
      datatype: 'FP32',
      shape: [BATCH, 4],
      contents: { fp32_contents: Array.from({ length: BATCH }, () => ROW).flat() },
    },
  ],
};

export default function () {
  if (exec.vu.iterationInScenario === 0) client.connect(GRPC_TARGET, { plaintext: true, timeout: '10s' });
  const res = client.invoke('inference.GRPCInferenceService/ModelInfer', REQUEST, { timeout: __ENV.TIMEOUT || '10s' });
  const msg = res && res.message;
  const out = msg && msg.outputs ? msg.outputs[0] : undefined;
  const ok = check(res, {
    'status OK': (r) => r && r.status === grpc.StatusOK,
    'model_name echoed': () => msg !== undefined && msg !== null && msg.modelName === MODEL,
    'an output with one row per input row': () => out !== undefined && Number(out.shape[0]) === BATCH,
    'output data present': () =>
      msg !== undefined && msg !== null && ((msg.rawOutputContents && msg.rawOutputContents.length > 0) || (out && out.contents && Object.keys(out.contents).length > 0)),
  });
  inferErrors.add(!ok);
  if (!ok) console.warn(`gRPC ${res && res.status} ${res && res.error ? JSON.stringify(res.error) : ''}`);
  else rows.add(BATCH);
}

export function teardown() {
  client.close();
}

export const handleSummary = summary('kserve-grpc-infer');

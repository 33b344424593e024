// Cross-checks the dev runtime with Triton's official Python gRPC client (tritonclient 2.73.0):
// iris against the coefficients and the data set, tiny-llm streamed via start_stream /
// async_stream_infer. Missing python3 or tritonclient is a failure, never a skip.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { spawnDevRuntime, type SpawnedDevRuntime } from '../helpers/dev-runtime.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/dev-runtime/tritonclient_check.py', import.meta.url));
const COEFFICIENTS = fileURLToPath(new URL('../../runtimes/dev/models/iris/coefficients.json', import.meta.url));
const IRIS_CSV = fileURLToPath(new URL('../../runtimes/dev/models/iris/iris.csv', import.meta.url));

let runtime: SpawnedDevRuntime;

before(async () => {
  runtime = await spawnDevRuntime(['--latency-a-ms', '1', '--token-latency-ms', '1']);
});

after(async () => {
  await runtime?.stop();
});

test('tritonclient.grpc agrees with the dev runtime (iris maths, tiny-llm streaming)', () => {
  const run = spawnSync('python3', [SCRIPT, runtime.grpcTarget, COEFFICIENTS, IRIS_CSV], { encoding: 'utf8', timeout: 25_000 });
  if (run.error) {
    assert.fail(`could not run python3 (needed for this cross-check; install python3 and tritonclient[grpc,http]==2.73.0): ${run.error.message}`);
  }
  if (run.status === 3) {
    assert.fail(`python3 lacks tritonclient/numpy; install them with: pip install 'tritonclient[grpc,http]==2.73.0' numpy\n${run.stderr}`);
  }
  assert.equal(run.status, 0, `tritonclient_check.py failed (status ${run.status}, signal ${run.signal})\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { ok?: boolean; irisAccuracy?: number; streamedTokens?: number };
  assert.equal(summary.ok, true);
  assert.ok((summary.irisAccuracy ?? 0) >= 0.95);
  assert.ok((summary.streamedTokens ?? 0) >= 24);
});

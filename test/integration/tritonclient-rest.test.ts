// Triton's own Python HTTP client pointed at the router works as if the router were Triton, and its
// answers match Triton's own gRPC client talking to the runtime directly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { spawnDevRuntime } from '../helpers/dev-runtime.js';
import { devConfig, startRouter, type RunningRouter } from '../helpers/start-router.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/router/tritonclient_http_check.py', import.meta.url));

let runtime: Awaited<ReturnType<typeof spawnDevRuntime>>;
let router: RunningRouter;

before(async () => {
  runtime = await spawnDevRuntime();
  router = await startRouter(devConfig(runtime.grpcTarget));
});

after(async () => {
  await router?.stop();
  await runtime?.stop();
});

test('tritonclient.http through the router agrees with tritonclient.grpc direct', () => {
  const run = spawnSync('python3', [SCRIPT, router.url.replace('http://', ''), runtime.grpcTarget], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(
    run.status,
    0,
    `the tritonclient check failed (needs: python3 -m pip install -r test/requirements.txt):\n${run.error ?? ''}${run.stderr}`,
  );
  const seen = JSON.parse(run.stdout);
  assert.equal(seen.live, true);
  assert.equal(seen.ready, true);
  assert.equal(seen.model_ready, true);
  assert.equal(seen.server_name, 'switchyard');
  assert.deepEqual(seen.model_inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }]);
  assert.equal(seen.max_batch_size, 64);
  for (const binary of ['True', 'False']) {
    assert.deepEqual(seen.via_router[binary].probabilities, seen.direct.probabilities, `binary=${binary}`);
    assert.deepEqual(seen.via_router[binary].label, seen.direct.label);
    assert.equal(seen.via_router[binary].id, `py-${binary}`);
  }
  assert.deepEqual(seen.direct.label, ['setosa', 'virginica', 'versicolor']);
  assert.equal(seen.unknown_model_error.status, '404');
  assert.match(seen.unknown_model_error.message, /unknown model/);
});

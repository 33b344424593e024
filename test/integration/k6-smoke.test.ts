// The k6 load-test scripts (loadtests/k6/) stay runnable: loadtests/run-k6-smoke.ts starts the
// stacks they need on ephemeral ports and runs every script's smoke scenario; any threshold breach
// (k6 exit 99) or error makes it exit non-zero. k6 must be on PATH (loadtests/install-k6.sh, which
// .ci/run calls): without it this test fails with the install hint instead of skipping.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/dev-runtime.js';

const K6 = process.env.K6 ?? 'k6';
const HINT = 'k6 is not on PATH: run loadtests/install-k6.sh (builds k6 v1.8.1 into ${GOBIN:-$HOME/go/bin}), then add that directory to PATH';

test('every k6 script passes its smoke scenario against a live router', { timeout: 180_000 }, async () => {
  const version = spawnSync(K6, ['version'], { encoding: 'utf8' });
  assert.ok(version.error === undefined && version.status === 0, `${HINT}\n(${version.error?.message ?? version.stderr})`);

  const child = spawn(process.execPath, ['--import', 'tsx', 'loadtests/run-k6-smoke.ts'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  assert.equal(code, 0, `loadtests/run-k6-smoke.ts exited ${code}:\n${output.slice(-8000)}`);
  assert.match(output, /k6 smoke passed: openai-chat-stream, openai-chat, kserve-rest-infer, kserve-grpc-infer, traffic-split, overload/);
});

// `npm run bench` stays runnable: its tiniest mode, without the peer gateways (nothing is installed),
// against the dev runtime directly, the bare Node proxy and Switchyard, must answer every request
// of every phase and print its report. Outcomes only: the numbers themselves are not checked.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchRecord } from '../../loadtests/bench/bench-record.js';
import { REPO_ROOT } from '../helpers/dev-runtime.js';

test('the bench harness measures direct, bare and Switchyard and reports every phase', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-harness-'));
  const json = join(dir, 'bench.json');
  try {
    const env = {
      ...process.env,
      BENCH_TARGETS: 'direct,bare,switchyard',
      BENCH_ROUNDS: '1',
      BENCH_DURATION_S: '1',
      BENCH_WARMUP_S: '0',
      BENCH_INITIAL_WARMUP_S: '0',
      BENCH_RATES: '50',
      BENCH_STREAM_RATE: '20',
      BENCH_HELD_STREAMS: '20',
      BENCH_HELD_TOKEN_MS: '200',
      BENCH_V2_RATE: '50',
      BENCH_V2_THROUGHPUT: '1',
      BENCH_CLIENTS: '4',
      BENCH_QUIET_MAX_WAIT_S: '0',
      BENCH_PIN: '0',
      BENCH_JSON: json,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'loadtests/bench/run-bench.ts', '--quick'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    assert.equal(code, 0, `run-bench.ts exited ${code}:\n${stderr.slice(-6000)}`);

    const { records } = JSON.parse(readFileSync(json, 'utf8')) as { records: BenchRecord[] };
    const expected: [BenchRecord['phase'], string][] = [
      ['rate', 'direct'], ['rate', 'bare'], ['rate', 'switchyard'],
      ['throughput', 'direct'], ['throughput', 'bare'], ['throughput', 'switchyard'],
      ['stream', 'direct'], ['stream', 'bare'], ['stream', 'switchyard'],
      ['memory', 'bare'], ['memory', 'switchyard'],
      ['v2-rate', 'v2-direct-grpc'], ['v2-rate', 'v2-switchyard-rest'], ['v2-rate', 'v2-switchyard-grpc'],
      ['v2-throughput', 'v2-direct-grpc'], ['v2-throughput', 'v2-switchyard-rest'], ['v2-throughput', 'v2-switchyard-grpc'],
    ];
    for (const [phase, target] of expected) {
      const r = records.find((x) => x.phase === phase && x.target === target);
      assert.ok(r !== undefined, `no ${phase} record for ${target}`);
      assert.ok(r.ok > 0, `${phase} ${target}: nothing answered`);
      assert.equal(r.errors, 0, `${phase} ${target}: ${r.errors} errors`);
      if (phase === 'stream') assert.equal(r.tokensPerStream, 10, `${phase} ${target}: every stream carries its 10 tokens`);
      if (phase === 'memory') assert.equal(r.heldStreaming, 20, `${phase} ${target}: all 20 streams open at once`);
    }
    for (const heading of ['Router-added latency at fixed request rates', 'Maximum sustainable throughput', 'Streams: time to first token', 'Memory per 1,000 concurrent streams', 'KServe V2']) {
      assert.ok(stdout.includes(heading), `report lacks "${heading}"`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

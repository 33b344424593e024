// CI smoke for the k6 scripts (loadtests/k6/): starts what each script needs on ephemeral ports,
// runs its `smoke` scenario with k6, and exits non-zero if any run breaches a threshold (k6 exits 99),
// errors, or leaves no JSON summary.
//
//   node --import tsx loadtests/run-k6-smoke.ts            (npm run loadtest:smoke)
//   K6_SMOKE_SCRIPTS=overload,traffic-split node --import tsx loadtests/run-k6-smoke.ts
//
// Stacks (processes spawned with test/helpers' startRouter / spawnDevRuntime):
//   default  — a dev runtime + a router on the embedded default config (router/config/default.yaml),
//              its listeners on ephemeral ports and its clusters pointed at that runtime
//   split    — a router on loadtests/k6/configs/split.yaml (same dev runtime)
//   overload — a slow dev runtime (1 instance, 250 ms per execution) + a router on
//              loadtests/k6/configs/overload.yaml (limits.maxInFlight 4)
// Env: K6 (the k6 binary, default `k6` on PATH), K6_SMOKE_SCRIPTS (a comma-separated subset),
// RESULTS_DIR (loadtests/results).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT, spawnDevRuntime, type SpawnedDevRuntime } from '../test/helpers/dev-runtime.js';
import { startRouter, type RunningRouter } from '../test/helpers/start-router.js';

const K6 = process.env.K6 ?? 'k6';
const K6_VERSION = 'v1.8.1';
const RESULTS_DIR = process.env.RESULTS_DIR ?? 'loadtests/results';
export const INSTALL_HINT = `k6 is not on PATH: run loadtests/install-k6.sh (builds k6 ${K6_VERSION} into \${GOBIN:-$HOME/go/bin}), then add that directory to PATH`;

type Stack = 'default' | 'split' | 'overload';
const SCRIPTS: ReadonlyArray<{ script: string; stack: Stack }> = [
  { script: 'openai-chat-stream', stack: 'default' },
  { script: 'openai-chat', stack: 'default' },
  { script: 'kserve-rest-infer', stack: 'default' },
  { script: 'kserve-grpc-infer', stack: 'default' },
  { script: 'traffic-split', stack: 'split' },
  { script: 'overload', stack: 'overload' },
];

function selected(): typeof SCRIPTS {
  const value = process.env.K6_SMOKE_SCRIPTS;
  if (value === undefined || value.trim() === '') return SCRIPTS;
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !SCRIPTS.some((s) => s.script === n));
  if (unknown.length > 0) throw new Error(`K6_SMOKE_SCRIPTS: unknown ${unknown.join(', ')} (known: ${SCRIPTS.map((s) => s.script).join(', ')})`);
  return SCRIPTS.filter((s) => names.includes(s.script));
}

/** A router config file from the repo, minus its listeners (startRouter puts them on ephemeral ports). */
function configFile(path: string): Record<string, unknown> {
  const config = parse(readFileSync(join(REPO_ROOT, path), 'utf8')) as Record<string, unknown>;
  delete config.listeners;
  return config;
}

/** The router resolves ${SWITCHYARD_DEV_RUNTIME...} in its config from its environment (inherited from ours). */
function pointAt(runtime: SpawnedDevRuntime): void {
  process.env.SWITCHYARD_DEV_RUNTIME = runtime.grpcTarget;
  process.env.SWITCHYARD_CANARY_RUNTIME = runtime.grpcTarget;
  process.env.SWITCHYARD_DEV_RUNTIME_OPENAI = runtime.openaiUrl.replace('http://', '');
}

function k6Available(): boolean {
  const res = spawnSync(K6, ['version'], { encoding: 'utf8' });
  if (res.error !== undefined || res.status !== 0) return false;
  if (!res.stdout.includes(`k6 ${K6_VERSION} `)) process.stderr.write(`warning: ${res.stdout.trim()} is not the pinned k6 ${K6_VERSION} (loadtests/install-k6.sh)\n`);
  return true;
}

function runK6(script: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(K6, ['run', '--quiet', '--no-color', `loadtests/k6/${script}.js`], {
      cwd: REPO_ROOT,
      env: { ...process.env, SCENARIO: 'smoke', RESULTS_DIR, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', (err) => {
      process.stderr.write(`${script}: could not run ${K6}: ${err.message}\n`);
      resolve(-1);
    });
    child.once('close', (code, signal) => resolve(code ?? (signal !== null ? -1 : 0)));
  });
}

async function main(): Promise<number> {
  if (!k6Available()) {
    process.stderr.write(`${INSTALL_HINT}\n`);
    return 2;
  }
  mkdirSync(join(REPO_ROOT, RESULTS_DIR), { recursive: true });
  const scripts = selected();
  const stacks = new Set(scripts.map((s) => s.stack));
  const runtimes: SpawnedDevRuntime[] = [];
  const routers: Partial<Record<Stack, RunningRouter>> = {};
  const failures: string[] = [];
  try {
    if (stacks.has('default') || stacks.has('split')) {
      const runtime = await spawnDevRuntime(['--instances', '2']);
      runtimes.push(runtime);
      pointAt(runtime);
      const [def, split] = await Promise.all([
        stacks.has('default') ? startRouter(configFile('router/config/default.yaml')) : undefined,
        stacks.has('split') ? startRouter(configFile('loadtests/k6/configs/split.yaml')) : undefined,
      ]);
      if (def !== undefined) routers.default = def;
      if (split !== undefined) routers.split = split;
    }
    if (stacks.has('overload')) {
      const slow = await spawnDevRuntime(['--models', 'iris', '--instances', '1', '--latency-a-ms', '250']);
      runtimes.push(slow);
      pointAt(slow);
      routers.overload = await startRouter(configFile('loadtests/k6/configs/overload.yaml'));
    }

    for (const { script, stack } of scripts) {
      const router = routers[stack] as RunningRouter;
      const started = Date.now();
      const summaryPath = join(REPO_ROOT, RESULTS_DIR, `${script}-smoke.json`);
      const before = summaryMtime(summaryPath);
      process.stdout.write(`\n=== ${script} (smoke) — router ${router.url}, gRPC ${router.grpcTarget}\n`);
      const code = await runK6(script, { BASE_URL: router.url, GRPC_TARGET: router.grpcTarget });
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (code === 99) failures.push(`${script}: thresholds breached (k6 exit 99)`);
      else if (code !== 0) failures.push(`${script}: k6 exited ${code}`);
      else if (summaryMtime(summaryPath) === before) failures.push(`${script}: no JSON summary at ${summaryPath}`);
      process.stdout.write(`=== ${script}: k6 exit ${code} in ${secs} s\n`);
      if (router.process.exitCode !== null) failures.push(`${script}: the router exited (${router.process.exitCode}):\n${router.output.slice(-20).join('\n')}`);
    }
  } finally {
    await Promise.all(Object.values(routers).map((r) => r?.stop()));
    await Promise.all(runtimes.map((r) => r.stop()));
  }
  if (failures.length > 0) {
    process.stderr.write(`\nk6 smoke FAILED:\n  ${failures.join('\n  ')}\n`);
    return 1;
  }
  process.stdout.write(`\nk6 smoke passed: ${scripts.map((s) => s.script).join(', ')} (summaries in ${RESULTS_DIR}/)\n`);
  return 0;
}

function summaryMtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`k6 smoke could not run: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}

// Router-side batching benchmark: 64 closed-loop clients sending single-row infers to
//   direct    — the dev runtime over gRPC (the baseline)
//   off       — a router without batching (KServe V2 REST in, Triton gRPC out)
//   batching  — a router with batching
// against one dev runtime. Two workloads:
//   iris (default) — cost model a = 4 ms, b = 0.05 ms per row, 1 instance, the runtime's own dynamic
//     batching off, so every upstream call is one execution and the runtime's batch_stats are
//     exactly the router's batch sizes; router batches of up to 64.
//   BENCH_PROFILE=resnet50-trt-fp16-a10|a100 — the calibrated ResNet-50 profile (docs/capacity.md):
//     real-size images (FP32 3×224×224, 588 KiB, binary tensor extension over REST, raw over gRPC),
//     Triton's own dynamic batcher on as the profile ships it (so it merges further, up to 128 rows),
//     router batches of up to 32. The question it answers: what throughput the router reaches in
//     front of that GPU, against the profile's ceiling.
// Scenarios alternate within each round; results are medians of rounds.
//
//   node --import tsx loadtests/batching-bench.ts        (npm run bench:batching)
//
// Environment: BENCH_PROFILE (unset = iris), BENCH_ROUNDS (3), BENCH_DURATION_S (10), BENCH_WARMUP_S
// (3), BENCH_CLIENTS (64), BENCH_DELAY_US (maxQueueDelayUs of the batching router, 8000), BENCH_PIN
// (1: servers on CPU 0, this load generator on CPU 1, as loadtests/README.md describes),
// BENCH_SCENARIOS (a comma-separated subset of direct,off,batching), BENCH_JSON (write raw results there).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { GRPCInferenceServiceClient } from '../router/generated/inference/GRPCInferenceService.js';
import type { ModelInferRequest } from '../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../router/generated/inference/ModelInferResponse.js';
import type { ModelStatisticsResponse__Output } from '../router/generated/inference/ModelStatisticsResponse.js';
import { getProfile } from '../runtimes/dev/profiles/index.js';
import { inferenceClient, spawnDevRuntime, unary } from '../test/helpers/dev-runtime.js';
import { devConfig, startRouter, type RunningRouter } from '../test/helpers/start-router.js';

const ROUNDS = intEnv('BENCH_ROUNDS', 3);
const DURATION_S = intEnv('BENCH_DURATION_S', 10);
const WARMUP_S = intEnv('BENCH_WARMUP_S', 3);
const CLIENTS = intEnv('BENCH_CLIENTS', 64);
const DELAY_US = intEnv('BENCH_DELAY_US', 8_000);
const PIN = intEnv('BENCH_PIN', 1) === 1;

const CLOCK_TICKS_PER_S = 100;

/** What is sent and what it costs upstream. */
interface Workload {
  readonly model: string;
  readonly runtimeFlags: readonly string[];
  /** The router's batching.maxBatchSize. */
  readonly routerMaxBatch: number;
  readonly restHeaders: Record<string, string>;
  readonly restBody: string | Buffer;
  readonly grpcRequest: ModelInferRequest;
  readonly grpcOutputs: number;
  readonly directLabel: string;
  /** Requests per second the upstream can serve when every execution has `batch` rows. */
  ideal(batch: number): number;
  readonly idealNote: string;
}

function irisWorkload(): Workload {
  const a = 4;
  const b = 0.05;
  const row = [5.1, 3.5, 1.4, 0.2];
  const ideal = (batch: number) => (batch * 1000) / (a + b * batch);
  return {
    model: 'iris',
    runtimeFlags: ['--models', 'iris', '--latency-a-ms', String(a), '--latency-b-ms', String(b), '--instances', '1'],
    routerMaxBatch: 64,
    restHeaders: { 'content-type': 'application/json' },
    restBody: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [row] }] }),
    grpcRequest: { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [Buffer.from(new Float32Array(row).buffer)] },
    grpcOutputs: 2,
    directLabel: 'dev runtime direct (gRPC, unbatched)',
    ideal,
    idealNote: `ideal by the cost model (1 instance): unbatched 1/(a+b) = ${ideal(1).toFixed(0)} req/s; batched 64/(a+64b) = ${ideal(64).toFixed(0)} req/s`,
  };
}

function resnetWorkload(profileName: string): Workload {
  const profile = getProfile(profileName);
  if (profile?.kind !== 'vision') throw new Error(`BENCH_PROFILE: '${profileName}' is not a vision profile`);
  // A deterministic image: the bytes matter for size, not content.
  const pixels = new Float32Array(3 * 224 * 224).map((_, i) => ((i * 7919) % 255) / 255);
  const raw = Buffer.from(pixels.buffer);
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 224, 224], parameters: { binary_data_size: raw.length } }],
    outputs: [{ name: 'output', parameters: { binary_data: true } }],
  }));
  const k = profile.instances;
  // Every instance busy with a batch of `batch` rows: k × batch rows per executionMs(batch, k).
  const ideal = (batch: number) => (k * batch * 1000) / profile.executionMs(batch, k);
  return {
    model: 'resnet50',
    runtimeFlags: ['--profile', profile.name],
    routerMaxBatch: 32,
    restHeaders: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    restBody: Buffer.concat([header, raw]),
    grpcRequest: { model_name: 'resnet50', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 224, 224] }], raw_input_contents: [raw] },
    grpcOutputs: 1,
    directLabel: `dev runtime direct (gRPC; Triton's dynamic batcher, ${k} instances)`,
    ideal,
    idealNote: `${profile.name} ceiling (${k} instances busy): batch 1 → ${ideal(1).toFixed(0)} img/s; batch 32 → ${ideal(32).toFixed(0)} img/s; batch ${profile.maxBatchSize} → ${ideal(profile.maxBatchSize).toFixed(0)} img/s`,
  };
}

const PROFILE = process.env.BENCH_PROFILE ?? '';
const WORKLOAD: Workload = PROFILE === '' ? irisWorkload() : resnetWorkload(PROFILE);

type Scenario = 'direct' | 'off' | 'batching';
const ALL_SCENARIOS: readonly Scenario[] = ['direct', 'off', 'batching'];
const SCENARIOS: readonly Scenario[] = scenariosEnv();

interface RunResult {
  readonly scenario: Scenario;
  readonly round: number;
  readonly requests: number;
  readonly errors: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Upstream executions by batch size during the measured window. */
  readonly batches: Record<string, number>;
  /** CPU of the router process (or, for direct, the runtime) per request. */
  readonly serverCpuUsPerRequest: number;
  /** Busy CPU on the box not used by our processes during the window (noise), in CPU-seconds. */
  readonly otherCpuS: number;
}

/** BENCH_SCENARIOS=batching (comma-separated) runs a subset, e.g. to tune maxQueueDelayUs. */
function scenariosEnv(): Scenario[] {
  const value = process.env.BENCH_SCENARIOS;
  if (value === undefined || value === '') return [...ALL_SCENARIOS];
  const picked = value.split(',').map((v) => v.trim());
  const unknown = picked.filter((v) => !(ALL_SCENARIOS as readonly string[]).includes(v));
  if (unknown.length > 0) throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')} (known: ${ALL_SCENARIOS.join(', ')})`);
  return ALL_SCENARIOS.filter((s) => picked.includes(s));
}

function intEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${value}`);
  return n;
}

/** utime + stime of a process, in clock ticks. */
function processTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Busy (non-idle, non-iowait) ticks of the whole box. */
function boxBusyTicks(): number {
  const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = cpu;
  return user + nice + system + irq + softirq;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (up to 30 s) until the box has been idle for 0.5 s: under 5 busy ticks in the window. */
async function waitForIdle(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const before = boxBusyTicks();
    await sleep(500);
    if (boxBusyTicks() - before < 5) return;
  }
}

function pin(pid: number, cpu: number): void {
  if (!PIN || cpus().length < 2) return;
  execFileSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function executions(client: GRPCInferenceServiceClient): Promise<Map<number, number>> {
  const stats = await unary<'ModelStatistics', object, ModelStatisticsResponse__Output>(client, 'ModelStatistics', { name: WORKLOAD.model, version: '' });
  return new Map((stats.model_stats[0]?.batch_stats ?? []).map((b) => [Number(b.batch_size), Number(b.compute_infer?.count ?? 0)]));
}

function delta(before: Map<number, number>, after: Map<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [size, n] of [...after].sort((a, b) => a[0] - b[0])) {
    const d = n - (before.get(size) ?? 0);
    if (d > 0) out[String(size)] = d;
  }
  return out;
}

/** One closed-loop client: sends, waits for the answer, sends again, until `stop`. */
type SendOne = () => Promise<boolean>;

async function drive(send: SendOne, seconds: number, latencies: number[] | undefined): Promise<{ requests: number; errors: number }> {
  const until = performance.now() + seconds * 1000;
  let requests = 0;
  let errors = 0;
  const client = async (): Promise<void> => {
    while (performance.now() < until) {
      const started = performance.now();
      let ok = false;
      try {
        ok = await send();
      } catch {
        ok = false;
      }
      const ended = performance.now();
      if (ended > until) break; // answers after the window are not counted
      requests++;
      if (!ok) errors++;
      latencies?.push(ended - started);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { requests, errors };
}

function httpSender(router: RunningRouter): { send: SendOne; close: () => Promise<void> } {
  const pool = new Pool(router.url, { connections: CLIENTS, pipelining: 1, keepAliveTimeout: 60_000 });
  const send: SendOne = async () => {
    const res = await pool.request({ path: `/v2/models/${WORKLOAD.model}/infer`, method: 'POST', headers: WORKLOAD.restHeaders, body: WORKLOAD.restBody });
    await res.body.text();
    return res.statusCode === 200;
  };
  return { send, close: () => pool.close() };
}

function grpcSender(client: GRPCInferenceServiceClient): SendOne {
  return async () => {
    const res = await unary<'ModelInfer', object, ModelInferResponse__Output>(client, 'ModelInfer', WORKLOAD.grpcRequest);
    return res.outputs.length === WORKLOAD.grpcOutputs;
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function meanBatch(batches: Record<string, number>): number {
  let rows = 0;
  let n = 0;
  for (const [size, count] of Object.entries(batches)) {
    rows += Number(size) * count;
    n += count;
  }
  return n === 0 ? 0 : rows / n;
}

/** Batch sizes in buckets: 1, 2–7, 8–15, 16–31, 32–63, 64, 65–127, 128, as shares of executions. */
function bucketed(batches: Record<string, number>): string {
  const buckets: [string, number, number][] = [['1', 1, 1], ['2–7', 2, 7], ['8–15', 8, 15], ['16–31', 16, 31], ['32–63', 32, 63], ['64', 64, 64], ['65–127', 65, 127], ['128', 128, 128]];
  const total = Object.values(batches).reduce((a, b) => a + b, 0);
  if (total === 0) return '—';
  return buckets
    .map(([label, lo, hi]) => {
      const n = Object.entries(batches).filter(([s]) => Number(s) >= lo && Number(s) <= hi).reduce((a, [, c]) => a + c, 0);
      if (n === 0) return undefined;
      const share = (100 * n) / total;
      return `${label}: ${share < 1 ? '<1' : Math.round(share)} %`;
    })
    .filter((x) => x !== undefined)
    .join(', ');
}

async function main(): Promise<void> {
  process.stderr.write(`batching bench (${WORKLOAD.model}): ${ROUNDS} rounds × ${SCENARIOS.join(', ')}; ${WARMUP_S} s warm-up + ${DURATION_S} s each; ${CLIENTS} clients; maxQueueDelayUs ${DELAY_US}\n`);
  const runtime = await spawnDevRuntime([...WORKLOAD.runtimeFlags]);
  const routers: Partial<Record<Scenario, RunningRouter>> = {};
  const clients: GRPCInferenceServiceClient[] = [];
  const senders: { close: () => Promise<void> }[] = [];
  const results: RunResult[] = [];
  try {
    const common = { limits: { maxInFlight: 4096 } };
    const model = WORKLOAD.model;
    routers.off = await startRouter(devConfig(runtime.grpcTarget, { [model]: { split: [{ cluster: 'dev' }] } }, common));
    routers.batching = await startRouter(
      devConfig(runtime.grpcTarget, { [model]: { split: [{ cluster: 'dev' }], batching: { maxBatchSize: WORKLOAD.routerMaxBatch, maxQueueDelayUs: DELAY_US, maxQueueSize: 4096 } } }, common),
    );
    const runtimePid = runtime.process.pid as number;
    pin(runtimePid, 0);
    for (const r of Object.values(routers)) pin(r.process.pid as number, 0);
    pin(process.pid, 1);

    const stats = inferenceClient(runtime.grpcTarget);
    const direct = inferenceClient(runtime.grpcTarget);
    clients.push(stats, direct);
    const off = httpSender(routers.off);
    const batching = httpSender(routers.batching);
    senders.push(off, batching);
    const send: Record<Scenario, SendOne> = { direct: grpcSender(direct), off: off.send, batching: batching.send };
    const serverPid: Record<Scenario, number> = {
      direct: runtimePid,
      off: routers.off.process.pid as number,
      batching: routers.batching.process.pid as number,
    };
    const ours = [process.pid, runtimePid, serverPid.off, serverPid.batching];

    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate the order between rounds so no scenario always runs first.
      const order = round % 2 === 1 ? SCENARIOS : [...SCENARIOS].reverse();
      for (const scenario of order) {
        await waitForIdle();
        await drive(send[scenario], WARMUP_S, undefined);
        const latencies: number[] = [];
        const before = await executions(stats);
        const serverTicks = processTicks(serverPid[scenario]);
        const ourTicks = ours.reduce((sum, pid) => sum + processTicks(pid), 0);
        const boxTicks = boxBusyTicks();
        const started = performance.now();
        const { requests, errors } = await drive(send[scenario], DURATION_S, latencies);
        const elapsedS = (performance.now() - started) / 1000;
        const otherTicks = boxBusyTicks() - boxTicks - (ours.reduce((sum, pid) => sum + processTicks(pid), 0) - ourTicks);
        const serverCpu = (processTicks(serverPid[scenario]) - serverTicks) / CLOCK_TICKS_PER_S;
        const after = await executions(stats);
        latencies.sort((a, b) => a - b);
        const result: RunResult = {
          scenario,
          round,
          requests,
          errors,
          throughput: requests / Math.min(elapsedS, DURATION_S),
          p50Ms: percentile(latencies, 50),
          p99Ms: percentile(latencies, 99),
          batches: delta(before, after),
          serverCpuUsPerRequest: requests === 0 ? 0 : (serverCpu * 1e6) / requests,
          otherCpuS: Math.max(0, otherTicks) / CLOCK_TICKS_PER_S,
        };
        results.push(result);
        process.stderr.write(
          `round ${round} ${scenario.padEnd(8)} ${result.throughput.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(1)} ms  p99 ${result.p99Ms.toFixed(1)} ms  ` +
            `errors ${errors}  mean batch ${meanBatch(result.batches).toFixed(1)}  server CPU ${result.serverCpuUsPerRequest.toFixed(0)} µs/req  other CPU ${result.otherCpuS.toFixed(2)} s\n`,
        );
      }
    }
  } finally {
    for (const s of senders) await s.close();
    for (const c of clients) c.close();
    for (const r of Object.values(routers)) await r.stop();
    await runtime.stop();
  }
  report(results);
}

function report(results: readonly RunResult[]): void {
  const ideal = (batch: number) => WORKLOAD.ideal(batch);
  const of = (s: Scenario) => results.filter((r) => r.scenario === s);
  const rows = SCENARIOS.map((s) => {
    const runs = of(s);
    const batches: Record<string, number> = {};
    for (const r of runs) for (const [size, n] of Object.entries(r.batches)) batches[size] = (batches[size] ?? 0) + n;
    return {
      scenario: s,
      throughput: median(runs.map((r) => r.throughput)),
      range: [Math.min(...runs.map((r) => r.throughput)), Math.max(...runs.map((r) => r.throughput))],
      p50: median(runs.map((r) => r.p50Ms)),
      p99: median(runs.map((r) => r.p99Ms)),
      errors: runs.reduce((a, r) => a + r.errors, 0),
      cpu: median(runs.map((r) => r.serverCpuUsPerRequest)),
      batches,
      meanBatch: meanBatch(batches),
    };
  });
  const label: Record<Scenario, string> = {
    direct: WORKLOAD.directLabel,
    off: 'router, batching off',
    batching: `router, batching on (max ${WORKLOAD.routerMaxBatch}, ${DELAY_US} µs)`,
  };
  const lines = [
    `| scenario | req/s median [range] | p50 | p99 | errors | mean batch | batch sizes (share of executions) | ideal at that batch size | server CPU µs/req |`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
    ...rows.map(
      (r) =>
        `| ${label[r.scenario]} | **${r.throughput.toFixed(0)}** [${r.range[0]?.toFixed(0)}–${r.range[1]?.toFixed(0)}] | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.errors} | ${r.meanBatch.toFixed(1)} | ${bucketed(r.batches)} | ${ideal(r.meanBatch).toFixed(0)} req/s | ${r.cpu.toFixed(0)} |`,
    ),
  ];
  const off = rows.find((r) => r.scenario === 'off');
  const on = rows.find((r) => r.scenario === 'batching');
  const ratio = off !== undefined && on !== undefined ? on.throughput / off.throughput : Number.NaN;
  const met = off !== undefined && on !== undefined && ratio >= 5 && on.p99 <= off.p99;
  console.log(lines.join('\n'));
  console.log(`\n${WORKLOAD.idealNote}`);
  if (off !== undefined && on !== undefined && PROFILE !== '') {
    console.log(`batching on / off throughput: ${ratio.toFixed(2)}×; p99 ${on.p99.toFixed(1)} ms vs ${off.p99.toFixed(1)} ms`);
  } else if (off !== undefined && on !== undefined) {
    console.log(`batching on / off throughput: ${ratio.toFixed(2)}×; p99 ${on.p99.toFixed(1)} ms vs ${off.p99.toFixed(1)} ms → target (≥ 5×, p99 no worse) ${met ? 'MET' : 'NOT MET'}`);
  }
  console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; pinned: ${PIN}`);
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ config: { PROFILE, ROUNDS, DURATION_S, WARMUP_S, CLIENTS, DELAY_US, PIN }, results, summary: rows }, null, 2));
}

await main();

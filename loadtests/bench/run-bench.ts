// `npm run bench`: the same load, in one run on one machine, against the dev runtime directly, a
// bare Node proxy, Switchyard, and the peer gateways (Portkey, LiteLLM), with the method of
// docs/benchmarks.md: the proxy under test alone on CPU 1, load generator + upstream on CPU 0, a
// quiet-box gate and a residual-CPU check around every window, targets alternated within each
// round, medians of rounds. Prints a markdown report on stdout, progress on stderr.
//
//   npm run bench                      full run (3 rounds, ~15 min after the first peer install)
//   npm run bench -- --quick           ~2 min sanity run with the peers (BENCH_QUICK=1)
//   npm run bench -- --install-peers   install the pinned peers into loadtests/.peers and exit
//
// Environment: see loadtests/README.md (BENCH_TARGETS, BENCH_ROUNDS, BENCH_JSON, …).
import { rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { REPO_ROOT, spawnDevRuntime, type SpawnedDevRuntime } from '../../test/helpers/dev-runtime.js';
import { benchReport, type BenchFacts } from './bench-report.js';
import type { BenchRecord, Phase, V2TargetName } from './bench-record.js';
import { benchSettings, type BenchSettings } from './bench-settings.js';
import { CorePinning, LOAD_CPU } from './core-pinning.js';
import { closedLoop, grpcInferSender, httpSender, openLoop, type LoadResult, type Sender } from './load-generator.js';
import { installLitellm, installPortkey, type PeerInstall } from './peer-installer.js';
import { median, percentile } from './percentiles.js';
import { CpuWindow, processTree, treeRssBytes, waitForQuietBox } from './process-accounting.js';
import { holdStreams, timedStreams } from './stream-client.js';
import {
  benchWorkDir,
  directTarget,
  launchBare,
  launchFresh,
  launchLitellm,
  launchPortkey,
  launchSwitchyard,
  requestHeaders,
  stopAllTargets,
  stopTarget,
  type LaunchContext,
  type OpenAiTarget,
} from './target-launcher.js';

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const IRIS_BODY = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [[5.1, 3.5, 1.4, 0.2]] }] });
/** Open-loop requests still unanswered this long after the window are abandoned. */
const GRACE_S = 2;

function chatBody(model: string): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 1 });
}

async function setUpstream(runtime: SpawnedDevRuntime, tokenLatencyMs: number): Promise<void> {
  const res = await request(`${runtime.httpUrl}/dev/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tokenLatencyMs, prefillMsPerToken: 0 }),
  });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`dev runtime refused /dev/faults: ${res.statusCode}`);
}

interface Measured {
  readonly fields: Partial<BenchRecord> & Pick<BenchRecord, 'sent' | 'ok' | 'errors' | 'unfinished' | 'throughput' | 'p50Ms' | 'p99Ms' | 'saturated'>;
  /** Requests the CPU figure is divided by. */
  readonly requests: number;
}

class Bench {
  readonly records: BenchRecord[] = [];
  readonly #settings: BenchSettings;
  readonly #ourPids: () => number[];

  constructor(settings: BenchSettings, ourPids: () => number[]) {
    this.#settings = settings;
    this.#ourPids = ourPids;
  }

  /**
   * One window with the gate, warm-up, CPU accounting and redo-if-contaminated. `once`: never redo
   * (a memory window's process is not fresh any more after its first try), only mark.
   */
  async window(
    phase: Phase,
    target: string,
    round: number,
    cpuPid: number | undefined,
    warm: (() => Promise<unknown>) | undefined,
    run: () => Promise<Measured>,
    rate?: number,
    once = false,
  ): Promise<BenchRecord> {
    const s = this.#settings;
    const tries = once ? 1 : s.retries + 1;
    let record: BenchRecord | undefined;
    for (let attempt = 1; attempt <= tries; attempt++) {
      const gate = await waitForQuietBox(s.quietMaxWaitS);
      if (warm !== undefined) await warm();
      const targetPids = cpuPid === undefined ? [] : processTree(cpuPid);
      const cpu = new CpuWindow(this.#ourPids(), targetPids);
      const started = performance.now();
      const { fields, requests } = await run();
      const elapsedS = (performance.now() - started) / 1000;
      const used = cpu.finish();
      const contaminated = used.otherCpuS > s.maxOtherCpu * elapsedS;
      record = {
        phase,
        target,
        round,
        ...(rate === undefined ? {} : { rate }),
        ...fields,
        elapsedS,
        targetCpuS: used.targetCpuS,
        cpuUsPerRequest: requests > 0 && cpuPid !== undefined ? (used.targetCpuS * 1e6) / requests : Number.NaN,
        otherCpuS: used.otherCpuS,
        stealS: used.stealS,
        quietWaitS: gate.waitedS,
        tries: attempt,
        contaminated,
      };
      if (!contaminated) break;
      log(`  ${phase} ${target}: other processes used ${used.otherCpuS.toFixed(2)} CPU-s in ${elapsedS.toFixed(1)} s${attempt < tries ? ', redoing' : ', kept and marked'}`);
    }
    this.records.push(record as BenchRecord);
    return record as BenchRecord;
  }
}

/** Median of RSS samples (5, 250 ms apart; quick: 3, 100 ms apart): one sample can land just before or after a GC. */
async function rssMedian(pid: number, quick: boolean): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < (quick ? 3 : 5); i++) {
    if (i > 0) await sleep(quick ? 100 : 250);
    samples.push(treeRssBytes(pid));
  }
  return median(samples);
}

function loadFields(r: LoadResult, rate: number | undefined): Measured['fields'] {
  // Fell behind: answers missing, or the window's requests took over 5 % longer than the window to serve.
  const saturated = rate !== undefined && (r.unfinished > 0.01 * r.sent || r.ok < 0.95 * r.sent || r.servedRate < 0.95 * rate);
  return { sent: r.sent, ok: r.ok, errors: r.errors, unfinished: r.unfinished, throughput: r.throughput, p50Ms: percentile(r.latencies, 50), p99Ms: percentile(r.latencies, 99), saturated };
}

async function withSender<T>(make: () => Sender, body: (s: Sender) => Promise<T>): Promise<T> {
  const sender = make();
  try {
    return await body(sender);
  } finally {
    await sender.close();
  }
}

function progress(r: BenchRecord): void {
  const parts = [`round ${r.round}`, r.phase.padEnd(13), r.target.padEnd(18)];
  if (r.rate !== undefined) parts.push(`@${r.rate}/s`);
  if (r.phase === 'memory') parts.push(`${r.heldStreaming}/${r.heldWanted} streaming, RSS ${r.rssIdleMb?.toFixed(1)} → ${r.rssHeldMb?.toFixed(1)} MB, ${r.mbPer1000?.toFixed(1)} MB/1000`);
  else if (r.phase === 'stream') parts.push(`TTFT p50 ${r.ttftP50Ms?.toFixed(2)} ms p99 ${r.ttftP99Ms?.toFixed(2)} ms, ITL ${r.itlMeanMs?.toFixed(2)} ms, ${r.tokensPerStream?.toFixed(1)} tok/stream`);
  else parts.push(`${r.throughput.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`);
  parts.push(`ok ${r.ok} err ${r.errors}${r.unfinished > 0 ? ` unfinished ${r.unfinished}` : ''}${r.saturated ? ' SATURATED' : ''}`);
  if (!Number.isNaN(r.cpuUsPerRequest)) parts.push(`CPU ${r.cpuUsPerRequest.toFixed(0)} µs/req`);
  parts.push(`other CPU ${r.otherCpuS.toFixed(2)} s${r.contaminated ? ' CONTAMINATED' : ''}`);
  log(parts.join('  '));
}

async function installPeers(settings: BenchSettings): Promise<PeerInstall[]> {
  const out: PeerInstall[] = [];
  if (settings.installOnly || settings.targets.includes('portkey')) out.push(await installPortkey(REPO_ROOT, log));
  if (settings.installOnly || settings.targets.includes('litellm')) out.push(await installLitellm(REPO_ROOT, log));
  for (const p of out) log(`peer ${p.name} ${p.version}: ${p.ok ? `ready${p.installS > 0 ? ` (installed in ${p.installS.toFixed(0)} s)` : ''}` : `unavailable: ${p.reason}`}`);
  return out;
}

async function main(): Promise<void> {
  const settings = benchSettings(process.argv.slice(2));
  const startedAt = new Date();
  const peers = await installPeers(settings);
  if (settings.installOnly) return;

  const pinning = new CorePinning(settings.pin);
  log(`bench: ${settings.quick ? 'quick' : 'full'}, ${settings.rounds} round(s), targets ${settings.targets.join(', ')}; pinning ${pinning.why}`);
  const runtime = await spawnDevRuntime([
    '--models', 'iris,tiny-llm',
    '--instances', '1',
    '--llm-max-sequences', '4096',
    '--latency-a-ms', '0',
    '--latency-b-ms', '0',
    '--token-latency-ms', '0',
    '--prefill-ms-per-token', '0',
  ]);
  runningRuntime = runtime;
  const runtimePid = runtime.process.pid as number;
  pinning.pin(process.pid, LOAD_CPU);
  pinning.pin(runtimePid, LOAD_CPU);
  const ctx: LaunchContext = { runtime, pinning, repoRoot: REPO_ROOT, workDir: benchWorkDir() };
  log(`peer logs and configs: ${ctx.workDir} (removed after a successful run)`);
  let succeeded = false;

  const targets: OpenAiTarget[] = [];
  let routerUrl: string | undefined;
  let routerGrpc: string | undefined;
  let routerPid: number | undefined;
  try {
    const want = settings.targets;
    if (want.includes('direct')) targets.push(directTarget(ctx));
    if (want.includes('bare')) targets.push(await launchBare(ctx));
    if (want.includes('switchyard') || want.includes('switchyard-triton')) {
      const sy = await launchSwitchyard(ctx);
      if (want.includes('switchyard')) targets.push(sy.openai);
      if (want.includes('switchyard-triton')) targets.push(sy.triton);
      if (sy.router !== undefined) {
        routerUrl = sy.router.url;
        routerGrpc = sy.router.grpcTarget;
        routerPid = sy.router.process.pid;
      }
    }
    const peer = (name: 'portkey' | 'litellm') => peers.find((p) => p.name === name) as PeerInstall;
    if (want.includes('portkey')) targets.push(await launchPortkey(ctx, peer('portkey')));
    if (want.includes('litellm')) targets.push(await launchLitellm(ctx, peer('litellm')));
    for (const t of targets) {
      log(`target ${t.name}: ${t.available ? `${t.url} (pid ${t.pid ?? runtimePid})${t.streams ? '' : `; streams unavailable: ${t.streamReason}`}` : `unavailable: ${t.reason}`}`);
    }

    const live = targets.filter((t) => t.available);
    const fresh = new Set<number>(); // the memory windows' own proxy processes
    const ourPids = () => [process.pid, ...processTree(runtimePid), ...[...live.map((t) => t.pid), ...fresh].flatMap((pid) => (pid === undefined ? [] : processTree(pid)))];
    const bench = new Bench(settings, ourPids);
    const headers = requestHeaders(runtime.openaiUrl);
    const cpuPid = (t: OpenAiTarget) => t.pid ?? runtimePid;
    const s = settings;

    // Before the series every target gets a closed-loop warm-up (JIT, connection pools).
    if (s.initialWarmupS > 0) {
      await setUpstream(runtime, 0);
      for (const t of live) {
        await withSender(
          () => httpSender(t.url, '/v1/chat/completions', headers, chatBody(t.model), '"choices"', s.clients),
          (x) => closedLoop(x, s.clients, s.initialWarmupS),
        );
        if (t.streams) await timedStreams({ url: t.url, headers, model: t.model }, 100, 1, 3);
      }
      log(`warmed up: ${s.initialWarmupS} s closed loop (${s.clients} clients) + 1 s of streams per target`);
    }

    for (let round = 1; round <= s.rounds; round++) {
      const order = round % 2 === 1 ? live : [...live].reverse();
      log(`round ${round}/${s.rounds}: ${order.map((t) => t.name).join(' → ')}`);

      // 1. Fixed request rates, non-streaming, one-token answers (the upstream is as fast as it gets).
      await setUpstream(runtime, 0);
      const saturatedAt = new Map<string, number>();
      for (const rate of s.rates) {
        for (const t of order) {
          if (saturatedAt.has(t.name)) continue; // it already fell behind at a lower rate this round
          const make = () => httpSender(t.url, '/v1/chat/completions', headers, chatBody(t.model), '"choices"', 256);
          const r = await bench.window(
            'rate',
            t.name,
            round,
            cpuPid(t),
            () => withSender(make, (x) => openLoop(x, rate, s.warmupS, GRACE_S)),
            () => withSender(make, async (x) => {
              const res = await openLoop(x, rate, s.durationS, GRACE_S);
              return { fields: loadFields(res, rate), requests: res.ok + res.errors };
            }),
            rate,
          );
          progress(r);
          if (r.saturated) saturatedAt.set(t.name, rate);
        }
      }

      // 2. Throughput: closed loop, BENCH_CLIENTS concurrent clients.
      for (const t of order) {
        const make = () => httpSender(t.url, '/v1/chat/completions', headers, chatBody(t.model), '"choices"', s.clients);
        progress(
          await bench.window('throughput', t.name, round, cpuPid(t), () => withSender(make, (x) => closedLoop(x, s.clients, s.warmupS)), () =>
            withSender(make, async (x) => {
              const res = await closedLoop(x, s.clients, s.durationS);
              return { fields: loadFields(res, undefined), requests: res.ok + res.errors };
            }),
          ),
        );
      }

      // 3. Streams at a fixed rate with a fixed token interval: TTFT and inter-token gaps at the client.
      await setUpstream(runtime, s.tokenMs);
      for (const t of order.filter((x) => x.streams)) {
        const st = { url: t.url, headers, model: t.model };
        progress(
          await bench.window(
            'stream',
            t.name,
            round,
            cpuPid(t),
            s.warmupS > 0 ? () => timedStreams(st, s.streamRate, s.warmupS, s.streamTokens) : undefined,
            async () => {
              const res = await timedStreams(st, s.streamRate, s.durationS, s.streamTokens);
              return {
                fields: {
                  sent: res.sent,
                  ok: res.ok,
                  errors: res.errors,
                  unfinished: 0,
                  throughput: res.ok / s.durationS,
                  p50Ms: percentile(res.ttftMs, 50),
                  p99Ms: percentile(res.ttftMs, 99),
                  saturated: res.ok < 0.95 * res.sent,
                  ttftP50Ms: percentile(res.ttftMs, 50),
                  ttftP99Ms: percentile(res.ttftMs, 99),
                  itlMeanMs: percentile(res.meanItlMs, 50),
                  gapP99Ms: percentile(res.gapsMs, 99),
                  tokensPerStream: res.tokensPerStream,
                },
                requests: res.sent,
              };
            },
            s.streamRate,
          ),
        );
      }

      // 4. Memory: BENCH_HELD_STREAMS streams open at once through a *fresh* process of each proxy
      //    (one that served earlier windows keeps their heap, and new streams fit in its slack).
      if (s.heldStreams > 0) {
        const rampS = s.quick ? 0.5 : 2;
        const timeoutS = 30;
        const maxTokens = Math.ceil(((rampS + timeoutS + 10) * 1000) / s.heldTokenMs);
        for (const base of order.filter((x) => x.streams && x.pid !== undefined)) {
          await setUpstream(runtime, 0);
          const t = await launchFresh(base.name, ctx, peers);
          if (!t.available || !t.streams || t.pid === undefined) {
            log(`  memory ${base.name}: a fresh process did not come up: ${t.reason ?? t.streamReason ?? 'no pid'}`);
            await stopTarget(t.pid);
            continue;
          }
          const pid = t.pid;
          fresh.add(pid);
          try {
            // A warmed-up process: JIT and connection pools as in service, not a cold start
            // (skipped with BENCH_INITIAL_WARMUP_S=0, as the harness test does).
            if (s.initialWarmupS > 0) {
              await withSender(() => httpSender(t.url, '/v1/chat/completions', headers, chatBody(t.model), '"choices"', s.clients), (x) => closedLoop(x, s.clients, 1));
              await timedStreams({ url: t.url, headers, model: t.model }, 100, 1, 3);
            }
            await setUpstream(runtime, s.heldTokenMs);
            let idle = 0;
            let held = 0;
            let after = 0;
            progress(
              await bench.window('memory', t.name, round, pid, undefined, async () => {
                idle = await rssMedian(pid, s.quick);
                const res = await holdStreams({ url: t.url, headers, model: t.model }, s.heldStreams, maxTokens, rampS, timeoutS, async () => {
                  await sleep(s.quick ? 200 : 500);
                  held = await rssMedian(pid, s.quick);
                });
                await sleep(s.quick ? 500 : 1000); // let the aborts land
                after = await rssMedian(pid, s.quick);
                const mb = (b: number) => b / (1024 * 1024);
                return {
                  fields: {
                    sent: res.wanted,
                    ok: res.streaming,
                    errors: res.failed,
                    unfinished: res.wanted - res.streaming - res.failed,
                    throughput: 0,
                    p50Ms: Number.NaN,
                    p99Ms: Number.NaN,
                    saturated: res.streaming < res.wanted,
                    heldWanted: res.wanted,
                    heldStreaming: res.streaming,
                    rssIdleMb: mb(idle),
                    rssHeldMb: mb(held),
                    rssAfterMb: mb(after),
                    // Scaled only when (nearly) all streams were open at once: 100 streams × 10 is not 1,000 streams.
                    mbPer1000: res.streaming < 0.95 * res.wanted ? Number.NaN : (mb(held - idle) * 1000) / res.streaming,
                  },
                  requests: res.wanted,
                };
              }, undefined, true),
            );
          } finally {
            await stopTarget(pid);
            fresh.delete(pid);
          }
        }
        await setUpstream(runtime, 0);
      }

      // 5. KServe V2: the dev runtime has no V2 REST, so the baseline is a direct gRPC ModelInfer.
      if (s.v2 && routerUrl !== undefined && routerGrpc !== undefined) {
        const v2: [V2TargetName, () => Sender, number | undefined][] = [
          ['v2-direct-grpc', () => grpcInferSender(runtime.grpcTarget), runtimePid],
          ['v2-switchyard-rest', () => httpSender(routerUrl as string, '/v2/models/iris/infer', { 'content-type': 'application/json' }, IRIS_BODY, '"outputs"', 256), routerPid],
          ['v2-switchyard-grpc', () => grpcInferSender(routerGrpc as string), routerPid],
        ];
        const v2Order = round % 2 === 1 ? v2 : [...v2].reverse();
        for (const [name, make, pid] of v2Order) {
          progress(
            await bench.window('v2-rate', name, round, pid, () => withSender(make, (x) => openLoop(x, s.v2Rate, s.warmupS, GRACE_S)), () =>
              withSender(make, async (x) => {
                const res = await openLoop(x, s.v2Rate, s.durationS, GRACE_S);
                return { fields: loadFields(res, s.v2Rate), requests: res.ok + res.errors };
              }),
              s.v2Rate,
            ),
          );
        }
        for (const [name, make, pid] of s.v2Throughput ? v2Order : []) {
          progress(
            await bench.window('v2-throughput', name, round, pid, () => withSender(make, (x) => closedLoop(x, s.clients, s.warmupS)), () =>
              withSender(make, async (x) => {
                const res = await closedLoop(x, s.clients, s.durationS);
                return { fields: loadFields(res, undefined), requests: res.ok + res.errors };
              }),
            ),
          );
        }
      }
    }

    const facts: BenchFacts = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      command: `${Object.entries(process.env)
        .filter(([k]) => k.startsWith('BENCH_'))
        .map(([k, v]) => `${k}=${v} `)
        .join('')}npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      settings,
      pinning: pinning.why,
      targets: targets.map((t) => ({ name: t.name, label: t.label, version: t.version, available: t.available, reason: t.reason, streams: t.streams, streamReason: t.streamReason })),
      peers,
    };
    const report = benchReport(facts, bench.records);
    process.stdout.write(`${report}\n`);
    if (settings.json !== undefined) writeFileSync(settings.json, `${JSON.stringify({ facts, records: bench.records }, null, 2)}\n`);
    log(`done in ${((Date.now() - startedAt.getTime()) / 60_000).toFixed(1)} min`);
    succeeded = true;
  } finally {
    await stopAllTargets();
    await runtime.stop();
    if (succeeded) rmSync(ctx.workDir, { recursive: true, force: true });
  }
}

let runningRuntime: SpawnedDevRuntime | undefined;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping every process the bench started`);
    void Promise.allSettled([stopAllTargets(), runningRuntime?.stop()]).finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  await stopAllTargets();
  process.exitCode = 1;
}

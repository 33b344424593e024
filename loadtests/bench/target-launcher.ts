// Starts every OpenAI-path target the bench compares, each in front of the same dev runtime, and
// stops them all (also on SIGINT): the runtime itself (direct), the bare Node proxy, Switchyard
// (openai-http backend, plus the OpenAI → Triton gRPC bridge as an extra model on the same
// process), Portkey's gateway and LiteLLM's proxy. A target that cannot start is returned as
// unavailable with the reason; the bench reports it and goes on.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import type { SpawnedDevRuntime } from '../../test/helpers/dev-runtime.js';
import { startRouter, type RunningRouter } from '../../test/helpers/start-router.js';
import { TARGET_CPU, type CorePinning } from './core-pinning.js';
import type { PeerInstall } from './peer-installer.js';
import { processTree } from './process-accounting.js';

export const OPENAI_TARGETS = ['direct', 'bare', 'switchyard', 'switchyard-triton', 'portkey', 'litellm'] as const;
export type OpenAiTargetName = (typeof OPENAI_TARGETS)[number];

export const TARGET_LABELS: Record<OpenAiTargetName, string> = {
  direct: 'dev runtime direct (vLLM-like OpenAI server)',
  bare: 'bare Node proxy (node:http + keep-alive Agent)',
  switchyard: 'Switchyard, openai-http backend',
  'switchyard-triton': 'Switchyard, OpenAI → Triton gRPC bridge (extra; peers cannot)',
  portkey: 'Portkey gateway',
  litellm: 'LiteLLM proxy',
};

/** Same headers to every target: the direct server and bare proxy ignore the Portkey ones. */
export function requestHeaders(upstreamOpenAiUrl: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    authorization: 'Bearer sk-bench',
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': `${upstreamOpenAiUrl}/v1`,
  };
}

export interface OpenAiTarget {
  readonly name: OpenAiTargetName;
  readonly label: string;
  /** http://127.0.0.1:port, no trailing slash; requests go to /v1/chat/completions. */
  readonly url: string;
  /** The `model` the client sends. */
  readonly model: string;
  /** The proxy process (undefined for direct): its CPU and memory are the target's. */
  readonly pid: number | undefined;
  readonly version: string;
  available: boolean;
  reason?: string;
  /** Streams work through it (checked with one stream at start). */
  streams: boolean;
  streamReason?: string;
}

const children = new Set<ChildProcess>();
const routers = new Set<RunningRouter>();

/** Stops everything this module started: SIGTERM, SIGKILL after 3 s. Safe to call twice. */
export async function stopAllTargets(): Promise<void> {
  const waits: Promise<unknown>[] = [...routers].map((r) => r.stop());
  routers.clear();
  for (const child of children) waits.push(stopChild(child));
  children.clear();
  await Promise.all(waits);
}

/** Stops one target process started here (a router or a spawned peer), by pid. */
export async function stopTarget(pid: number | undefined): Promise<void> {
  for (const r of routers) {
    if (r.process.pid !== pid) continue;
    routers.delete(r);
    await r.stop();
    return;
  }
  for (const child of children) {
    if (child.pid !== pid) continue;
    children.delete(child);
    await stopChild(child);
    return;
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  // LiteLLM may fork workers: remember the whole tree we can see, children last to go.
  const tree = child.pid === undefined ? [] : processTree(child.pid).reverse();
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      for (const pid of tree) killQuietly(pid, 'SIGKILL');
      resolve();
    }, 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      for (const pid of tree.slice(0, -1)) killQuietly(pid, 'SIGKILL');
      resolve();
    });
  });
  child.kill('SIGTERM');
  return done;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

const spawnErrors = new WeakMap<ChildProcess, string>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  // A command that cannot be started (ENOENT, EACCES) must make the target unavailable, not crash the bench.
  child.once('error', (err) => {
    spawnErrors.set(child, err.message);
    children.delete(child);
  });
  return child;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function chatBody(model: string, stream: boolean): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: stream ? 3 : 1, ...(stream ? { stream: true } : {}) });
}

/** One chat completion through the target; resolves to an error text, or undefined when it worked. */
async function probe(url: string, model: string, headers: Record<string, string>, stream: boolean): Promise<string | undefined> {
  try {
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers, body: chatBody(model, stream), headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await res.body.text();
    if (res.statusCode !== 200) return `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
    if (!stream) return text.includes('"choices"') ? undefined : `no choices in ${text.slice(0, 200)}`;
    return text.includes('data: [DONE]') && /"content":"[^"]/.test(text) ? undefined : `stream without content or [DONE]: ${text.slice(0, 200)}`;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Polls a non-stream request until it works, then checks one stream. */
async function waitUsable(target: OpenAiTarget, headers: Record<string, string>, timeoutMs: number, exited: () => string | undefined): Promise<OpenAiTarget> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined = 'not tried';
  while (Date.now() < deadline) {
    const gone = exited();
    if (gone !== undefined) return { ...target, available: false, reason: gone };
    last = await probe(target.url, target.model, headers, false);
    if (last === undefined) break;
    await sleep(250);
  }
  if (last !== undefined) return { ...target, available: false, reason: oneLine(`not answering within ${timeoutMs / 1000} s: ${last}`) };
  const streamError = await probe(target.url, target.model, headers, true);
  return streamError === undefined ? { ...target, streams: true } : { ...target, streams: false, streamReason: oneLine(streamError) };
}

function logFile(dir: string, name: string): number {
  return openSync(join(dir, `${name}.log`), 'a');
}

export interface LaunchContext {
  readonly runtime: SpawnedDevRuntime;
  readonly pinning: CorePinning;
  readonly repoRoot: string;
  /** Peer logs and configs go here. */
  readonly workDir: string;
}

export function benchWorkDir(): string {
  return mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
}

export function directTarget(ctx: LaunchContext): OpenAiTarget {
  return { name: 'direct', label: TARGET_LABELS.direct, url: ctx.runtime.openaiUrl, model: 'tiny-llm', pid: undefined, version: 'runtimes/dev', available: true, streams: true };
}

export async function launchBare(ctx: LaunchContext): Promise<OpenAiTarget> {
  const { file, args } = ctx.pinning.command(process.execPath, ['--import', 'tsx', 'loadtests/bench/bare-proxy.ts', '0', ctx.runtime.openaiUrl.replace('http://', '')]);
  const child = track(spawn(file, args, { cwd: ctx.repoRoot, stdio: ['ignore', 'pipe', 'inherit'] }));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare proxy printed no ready line within 15 s')), 15_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`bare proxy exited with ${code}`)));
  });
  const target: OpenAiTarget = { name: 'bare', label: TARGET_LABELS.bare, url: `http://127.0.0.1:${port}`, model: 'tiny-llm', pid: child.pid, version: 'loadtests/bench/bare-proxy.ts', available: true, streams: false };
  return waitUsable(target, requestHeaders(ctx.runtime.openaiUrl), 10_000, () => exitReason(child));
}

/** The router config: the fair hop (openai-http to the same OpenAI port) and the Triton bridge; tracing off, access log off. */
export function switchyardConfig(runtime: SpawnedDevRuntime): Record<string, unknown> {
  // Nothing may shed or queue the 1,000 held streams: admission and per-endpoint limits well above them.
  const roomy = { circuitBreaker: { maxInFlightPerEndpoint: 8192, maxPending: 8192 } };
  return {
    // The default level; with the access log off nothing is logged per request.
    logLevel: 'info',
    limits: { maxInFlight: 8192 },
    telemetry: { accessLog: false, tracing: { enabled: false } },
    clusters: {
      vllm: { backend: 'openai-http', endpoints: [runtime.openaiUrl.replace('http://', '')], ...roomy },
      triton: { backend: 'triton-grpc', endpoints: [runtime.grpcTarget], ...roomy },
    },
    models: {
      'tiny-llm': { split: [{ cluster: 'vllm' }], llm: {} },
      'tiny-llm-triton': { split: [{ cluster: 'triton', upstreamModel: 'tiny-llm' }], llm: { profile: 'vllm-backend' } },
      iris: { split: [{ cluster: 'triton' }] },
    },
  };
}

export interface SwitchyardTargets {
  readonly router: RunningRouter | undefined;
  readonly openai: OpenAiTarget;
  readonly triton: OpenAiTarget;
}

/** One router serving both Switchyard rows; `only` checks just that row's model. */
export async function launchSwitchyard(ctx: LaunchContext, only?: 'switchyard' | 'switchyard-triton'): Promise<SwitchyardTargets> {
  const base = { pid: undefined, version: 'this checkout', available: false, streams: false };
  let router: RunningRouter;
  try {
    router = await startRouter(switchyardConfig(ctx.runtime), { timeoutMs: 30_000 });
  } catch (err) {
    const reason = `router did not start: ${oneLine((err as Error).message)}`;
    return {
      router: undefined,
      openai: { ...base, name: 'switchyard', label: TARGET_LABELS.switchyard, url: '', model: 'tiny-llm', reason },
      triton: { ...base, name: 'switchyard-triton', label: TARGET_LABELS['switchyard-triton'], url: '', model: 'tiny-llm-triton', reason },
    };
  }
  routers.add(router);
  ctx.pinning.pin(router.process.pid as number, TARGET_CPU);
  const exited = () => (router.process.exitCode !== null ? `router exited with ${router.process.exitCode}` : undefined);
  const headers = requestHeaders(ctx.runtime.openaiUrl);
  const common = { url: router.url, pid: router.process.pid, version: 'this checkout', available: true, streams: false };
  const openaiRow: OpenAiTarget = { ...common, name: 'switchyard', label: TARGET_LABELS.switchyard, model: 'tiny-llm' };
  const tritonRow: OpenAiTarget = { ...common, name: 'switchyard-triton', label: TARGET_LABELS['switchyard-triton'], model: 'tiny-llm-triton' };
  const openai = only === 'switchyard-triton' ? openaiRow : await waitUsable(openaiRow, headers, 15_000, exited);
  const triton = only === 'switchyard' ? tritonRow : await waitUsable(tritonRow, headers, 15_000, exited);
  return { router, openai, triton };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

function exitReason(child: ChildProcess): string | undefined {
  const spawnError = spawnErrors.get(child);
  if (spawnError !== undefined) return `could not be started: ${spawnError}`;
  if (child.exitCode !== null) return `exited with code ${child.exitCode}`;
  if (child.signalCode !== null) return `killed by ${child.signalCode}`;
  return undefined;
}

/**
 * A fresh process of one proxy target (the memory windows need a process whose heap holds no history
 * of earlier load). Switchyard's two rows each get their own router.
 */
export async function launchFresh(name: OpenAiTargetName, ctx: LaunchContext, peers: readonly PeerInstall[]): Promise<OpenAiTarget> {
  const peer = (n: 'portkey' | 'litellm') => peers.find((p) => p.name === n);
  const missing = (n: 'portkey' | 'litellm'): PeerInstall => ({ name: n, version: '?', entry: '', ok: false, reason: 'not installed', installS: 0 });
  switch (name) {
    case 'direct':
      return directTarget(ctx);
    case 'bare':
      return launchBare(ctx);
    case 'switchyard':
    case 'switchyard-triton': {
      const sy = await launchSwitchyard(ctx, name);
      return name === 'switchyard' ? sy.openai : sy.triton;
    }
    case 'portkey':
      return launchPortkey(ctx, peer('portkey') ?? missing('portkey'));
    case 'litellm':
      return launchLitellm(ctx, peer('litellm') ?? missing('litellm'));
  }
}

export async function launchPortkey(ctx: LaunchContext, install: PeerInstall): Promise<OpenAiTarget> {
  const base: OpenAiTarget = { name: 'portkey', label: TARGET_LABELS.portkey, url: '', model: 'tiny-llm', pid: undefined, version: `@portkey-ai/gateway@${install.version}`, available: false, streams: false };
  if (!install.ok) return { ...base, reason: install.reason ?? 'not installed' };
  const port = await freePort();
  const log = logFile(ctx.workDir, 'portkey');
  // The default (non-headless) mode, as `npx @portkey-ai/gateway` starts it.
  const { file, args } = ctx.pinning.command(process.execPath, [install.entry, `--port=${port}`]);
  const child = track(spawn(file, args, { cwd: ctx.workDir, stdio: ['ignore', log, log] }));
  closeSync(log);
  const target = { ...base, url: `http://127.0.0.1:${port}`, pid: child.pid, available: true };
  return waitUsable(target, requestHeaders(ctx.runtime.openaiUrl), 30_000, () => exitReason(child));
}

export async function launchLitellm(ctx: LaunchContext, install: PeerInstall): Promise<OpenAiTarget> {
  const base: OpenAiTarget = { name: 'litellm', label: TARGET_LABELS.litellm, url: '', model: 'tiny-llm', pid: undefined, version: `litellm[proxy]==${install.version}`, available: false, streams: false };
  if (!install.ok) return { ...base, reason: install.reason ?? 'not installed' };
  const port = await freePort();
  const config = join(ctx.workDir, 'litellm.yaml');
  // One model, straight to the dev runtime's OpenAI port; no database, no callbacks, no cache, quiet logs.
  writeFileSync(
    config,
    [
      'model_list:',
      '  - model_name: tiny-llm',
      '    litellm_params:',
      '      model: openai/tiny-llm',
      `      api_base: ${ctx.runtime.openaiUrl}/v1`,
      '      api_key: sk-bench',
      'litellm_settings:',
      '  telemetry: false',
      '  set_verbose: false',
      '  turn_off_message_logging: true',
      '  cache: false',
      'general_settings:',
      '  disable_spend_logs: true',
      '',
    ].join('\n'),
  );
  const log = logFile(ctx.workDir, 'litellm');
  const { file, args } = ctx.pinning.command(install.entry, ['--config', config, '--host', '127.0.0.1', '--port', String(port), '--num_workers', '1']);
  const child = track(
    spawn(file, args, {
      cwd: ctx.workDir,
      stdio: ['ignore', log, log],
      // The bundled model cost map instead of a download at start; errors only in the log; its
      // upstream connection caps (1,000 total, 500 per host by default) raised above the held
      // streams, as Switchyard's limits are, so the 1,000-stream run measures memory, not a queue.
      env: {
        ...process.env,
        LITELLM_LOCAL_MODEL_COST_MAP: 'True',
        LITELLM_LOG: 'ERROR',
        NO_DOCS: 'True',
        AIOHTTP_CONNECTOR_LIMIT: '8192',
        AIOHTTP_CONNECTOR_LIMIT_PER_HOST: '8192',
      },
    }),
  );
  closeSync(log);
  const target = { ...base, url: `http://127.0.0.1:${port}`, pid: child.pid, available: true };
  return waitUsable(target, requestHeaders(ctx.runtime.openaiUrl), 120_000, () => exitReason(child));
}

// Spawns runtimes/dev as a real process on ephemeral ports for integration tests, waits for its
// {"event":"ready"} line, and stops it with SIGTERM (SIGKILL if it lingers). Also builds gRPC
// clients for it from the project's protos.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { healthProto, inferenceProto } from '../../router/core/grpc-definitions.js';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import type { HealthClient } from '../../router/generated/grpc/health/v1/Health.js';
import type { ModelInferRequest } from '../../router/generated/inference/ModelInferRequest.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = 'runtimes/dev/main.ts';
const STDERR_KEEP = 64 * 1024;

export interface DevRuntimeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedDevRuntime {
  /** host:port for grpc-js / tritonclient. */
  grpcTarget: string;
  /** http://host:port, no trailing slash. */
  httpUrl: string;
  /** The vLLM-like OpenAI port, http://host:port without `/v1` or a trailing slash. */
  openaiUrl: string;
  grpcPort: number;
  httpPort: number;
  openaiPort: number;
  process: ChildProcess;
  /** Settles when the process exits, for whatever reason (crash-after, signal, stop()). */
  exited: Promise<DevRuntimeExit>;
  /** The most recent stderr output (bounded). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after killAfterMs; resolves once the process is gone (at once if it already is). */
  stop(killAfterMs?: number): Promise<DevRuntimeExit>;
}

export interface SpawnDevRuntimeOptions {
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function spawnDevRuntime(flags: string[] = [], options: SpawnDevRuntimeOptions = {}): Promise<SpawnedDevRuntime> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--grpc-port', '0', '--http-port', '0', '--openai-port', '0', ...flags], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  let exitInfo: DevRuntimeExit | undefined;
  // 'close' rather than 'exit': it fires once stderr is fully read, so failures can quote it.
  const exited = new Promise<DevRuntimeExit>((resolve) => {
    child.once('close', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });

  return new Promise<SpawnedDevRuntime>((resolve, reject) => {
    let stdout = '';
    let ready = false;
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`dev runtime ${why} (flags: ${flags.join(' ') || 'none'})\n--- stderr ---\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`printed no ready line within ${readyTimeoutMs} ms`), readyTimeoutMs);
    child.once('error', (err) => fail(`could not be spawned: ${err.message}`));
    void exited.then((info) => {
      if (!ready) fail(`exited before it was ready (code ${info.code}, signal ${info.signal})`);
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (ready) return; // keep draining the pipe; nothing else is expected on stdout
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      let line: { event?: unknown; grpcPort?: unknown; httpPort?: unknown; openaiPort?: unknown };
      try {
        line = JSON.parse(stdout.slice(0, newline)) as typeof line;
      } catch {
        fail(`printed a first stdout line that is not JSON: ${stdout.slice(0, newline)}`);
        return;
      }
      if (line.event !== 'ready' || typeof line.grpcPort !== 'number' || typeof line.httpPort !== 'number' || typeof line.openaiPort !== 'number') {
        fail(`printed an unexpected first line: ${stdout.slice(0, newline)}`);
        return;
      }
      ready = true;
      clearTimeout(timer);
      const { grpcPort, httpPort, openaiPort } = line as { grpcPort: number; httpPort: number; openaiPort: number };
      resolve({
        grpcTarget: `127.0.0.1:${grpcPort}`,
        httpUrl: `http://127.0.0.1:${httpPort}`,
        openaiUrl: `http://127.0.0.1:${openaiPort}`,
        grpcPort,
        httpPort,
        openaiPort,
        process: child,
        exited,
        stderr: () => stderr,
        stop: async (killAfterMs = 5000) => {
          if (exitInfo !== undefined) return exitInfo;
          child.kill('SIGTERM');
          const kill = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
          const info = await exited;
          clearTimeout(kill);
          return info;
        },
      });
    });
  });
}

export function inferenceClient(target: string): GRPCInferenceServiceClient {
  const Client = inferenceProto().inference.GRPCInferenceService;
  return new Client(target, grpc.credentials.createInsecure());
}

export function healthClient(target: string): HealthClient {
  const Client = healthProto().grpc.health.v1.Health;
  return new Client(target, grpc.credentials.createInsecure());
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: Res) => void,
) => grpc.ClientUnaryCall;

/** Promise form of a unary call: `await unary(client, 'ModelInfer', request, { deadline })`. */
export function unary<K extends keyof GRPCInferenceServiceClient & string, Req, Res>(
  client: GRPCInferenceServiceClient,
  method: K,
  request: Req,
  options: grpc.CallOptions = {},
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<Res> {
  const fn = (client[method] as unknown as UnaryMethod<Req, Res>).bind(client);
  return new Promise((resolve, reject) => {
    fn(request, metadata, options, (err, response) => (err ? reject(err) : resolve(response as Res)));
  });
}

/** Rejection of a gRPC promise as its ServiceError (fails the test if it resolved). */
export async function grpcError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

export async function postJson<T = unknown>(url: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

/** Polls `check` every 20 ms until it returns true or timeoutMs passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `body` against a fresh dev runtime and a gRPC client to it; both are closed afterwards. */
export async function withDevRuntime(
  flags: string[],
  body: (rt: SpawnedDevRuntime, client: GRPCInferenceServiceClient) => Promise<void>,
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  const rt = await spawnDevRuntime(flags, { env });
  const client = inferenceClient(rt.grpcTarget);
  try {
    await body(rt, client);
  } finally {
    client.close();
    await rt.stop();
  }
}

/** `ModelInfer` as a promise. */
export const modelInfer = (client: GRPCInferenceServiceClient, req: ModelInferRequest, options: grpc.CallOptions = {}) =>
  unary(client, 'ModelInfer', req, options);

// Starts the real router process (router/main.ts) on ephemeral ports with a given config and waits
// for its `ready` log line. Tests talk to it over loopback like any client would; hot-reload tests
// rewrite its config file through `rewriteConfig`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningRouter {
  readonly url: string;
  readonly adminUrl: string;
  /** The client gRPC listener, `127.0.0.1:<port>`, for grpc-js or tritonclient.grpc. */
  readonly grpcTarget: string;
  readonly process: ChildProcess;
  /** Every stdout/stderr line so far (structured logs), for assertions and failure messages. */
  readonly output: string[];
  /** The config file the router was started on. */
  readonly configPath: string;
  /**
   * Replaces the config file (listeners default to 127.0.0.1:0 as at start). By default as editors
   * and Kubernetes do it: a new file renamed over the old; `inPlace` truncates and writes instead.
   */
  rewriteConfig(config: Record<string, unknown>, options?: { inPlace?: boolean }): void;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startRouter(config: Record<string, unknown>, options: { timeoutMs?: number } = {}): Promise<RunningRouter> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-'));
  const path = join(dir, 'config.yaml');
  writeFileSync(path, stringify(withTestDefaults(config)));
  const child = spawn(process.execPath, ['--import', 'tsx', 'router/main.ts', '--config', path], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The config directory lives as long as the router: nothing is left in the temp dir.
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const output: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const lines = createInterface({ input: child.stdout! });

  const ready = await new Promise<{ httpPort: number; grpcPort: number; adminPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`router not ready within ${options.timeoutMs ?? 15_000} ms:\n${output.join('\n')}`));
    }, options.timeoutMs ?? 15_000);
    lines.on('line', (line) => {
      output.push(line);
      try {
        const msg = JSON.parse(line) as { event?: string; httpPort: number; grpcPort: number; adminPort: number };
        if (msg.event === 'ready') {
          clearTimeout(timer);
          resolve(msg);
        }
      } catch {
        // a non-JSON line (e.g. a stack trace) is kept in `output`
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`router exited with ${code} before it was ready:\n${output.join('\n')}`));
    });
  });

  return {
    url: `http://127.0.0.1:${ready.httpPort}`,
    adminUrl: `http://127.0.0.1:${ready.adminPort}`,
    grpcTarget: `127.0.0.1:${ready.grpcPort}`,
    process: child,
    output,
    configPath: path,
    rewriteConfig(next, rewrite = {}) {
      const text = stringify(withTestDefaults(next));
      if (rewrite.inPlace === true) {
        writeFileSync(path, text);
        return;
      }
      const temp = join(dir, `.config.yaml.${process.pid}.tmp`);
      writeFileSync(temp, text);
      renameSync(temp, path);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Info logs, and listeners on loopback with ephemeral ports unless the config names its own. */
function withTestDefaults(config: Record<string, unknown>): Record<string, unknown> {
  return {
    logLevel: 'info',
    ...config,
    listeners: {
      http: { host: '127.0.0.1', port: 0 },
      grpc: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      ...(config.listeners as object | undefined),
    },
  };
}

/** A config with one triton-grpc cluster `dev` and the given models routed to it. */
export function devConfig(grpcTarget: string, models: Record<string, unknown> = { iris: { split: [{ cluster: 'dev' }] } }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    clusters: { dev: { backend: 'triton-grpc', endpoints: [grpcTarget] } },
    models,
    ...extra,
  };
}

// `npm start`: the dev runtime and the router, each in its own process, on the embedded defaults
// (client HTTP 8000, client gRPC 8001, admin 8002; dev runtime gRPC 18001, HTTP 18000, OpenAI HTTP 18002). Ctrl-C
// stops both cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];
let stopping = false;

function start(name: string, script: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${name} exited (${signal ?? code}); stopping the stack\n`);
      void stopAll(code ?? 1);
    }
  });
  return child;
}

/** Resolves on the child's first stdout JSON line with `event: "ready"`; echoes every line. */
async function ready(name: string, child: ChildProcess): Promise<Record<string, unknown>> {
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    process.stdout.write(`[${name}] ${line}\n`);
    try {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.event === 'ready') {
        lines.on('line', (l) => process.stdout.write(`[${name}] ${l}\n`));
        return msg;
      }
    } catch {
      // not a JSON line: just echoed
    }
  }
  throw new Error(`${name} exited before it was ready`);
}

async function stopAll(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Router first, so it drains while the runtime still answers.
  for (const child of [...children].reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await once(child, 'exit');
      clearTimeout(timer);
    }
  }
  process.exit(exitCode);
}

process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));

const runtime = start('dev-runtime', 'runtimes/dev/main.ts', process.env.DEV_RUNTIME_ARGS?.split(' ').filter(Boolean) ?? []);
await ready('dev-runtime', runtime);
const router = start('router', 'router/main.ts', process.argv.slice(2));
await ready('router', router);
process.stdout.write(
  '\nSwitchyard is up. Try:\n' +
    `  curl -N localhost:8000/v1/chat/completions -H 'content-type: application/json' \\\n` +
    `    -d '{"model":"tiny-llm","stream":true,"max_tokens":12,"messages":[{"role":"user","content":"Say hello"}]}'\n` +
    '  curl -s localhost:8000/v2/models/iris\n' +
    `  curl -s -X POST localhost:8000/v2/models/iris/infer -H 'content-type: application/json' \\\n` +
    `    -d '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}'\n` +
    '  KServe V2 gRPC on localhost:8001, e.g. tritonclient.grpc.InferenceServerClient("localhost:8001") (see README.md)\n' +
    'Ctrl-C stops both processes.\n\n',
);

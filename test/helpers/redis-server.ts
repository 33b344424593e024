// A real redis-server on a free loopback port, for tests. `--port 0` means "no TCP listener" to
// Redis (not "any port"), so the port is picked here: listen(0), close, hand it to redis-server,
// and try another if someone else bound it in between. kill() is SIGKILL (an outage), restart()
// brings it back, empty, on the same port. Ready means this very process answers (INFO's process_id).
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit: clients see the connection drop. */
  kill(): Promise<void>;
  /** Start again on the same port (after stop/kill) and wait until it answers. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open but nothing answers (a hung server). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
}

const READY_TIMEOUT_MS = 5_000;
const ATTEMPTS = 5;
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL'); // also reaps a paused one
});

export async function startRedisServer(): Promise<RunningRedis> {
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      let child = await spawnOn(port);
      const halt = async (signal: NodeJS.Signals): Promise<void> => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill(signal);
        child.kill('SIGCONT'); // a paused server handles SIGTERM only once it runs again
        await exited;
      };
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        stop: () => halt('SIGTERM'),
        kill: () => halt('SIGKILL'),
        restart: async () => {
          await halt('SIGTERM');
          child = await spawnOn(port);
        },
        pause: () => void child.kill('SIGSTOP'),
        resume: () => void child.kill('SIGCONT'),
      };
    } catch (err) {
      lastError = err; // most likely the port was taken between listen(0) and the bind: another one
    }
  }
  throw new Error(`redis-server did not start after ${ATTEMPTS} attempts`, { cause: lastError });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Spawns redis-server on `port` and resolves once it answers; rejects if it exits first. */
async function spawnOn(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000)));
  child.once('exit', () => running.delete(child));
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`redis-server on port ${port} exited (${code ?? signal}): ${output.trim()}`)));
  });
  exited.catch(() => {}); // only raced while starting
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const answered = await Promise.race([answers(port, child.pid), exited]);
    if (answered) return child;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer within ${READY_TIMEOUT_MS} ms: ${output.trim()}`);
}

/** True when the redis-server with `pid` answers on `port` (not some other process that took the port). */
function answers(port: number, pid: number | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      const m = /process_id:(\d+)\r\n/.exec(reply);
      if (m !== null) done(Number(m[1]) === pid);
      else if (reply.startsWith('-')) done(false);
    });
  });
}

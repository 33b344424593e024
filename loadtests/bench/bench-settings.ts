// The bench's knobs: command-line flags and BENCH_* environment variables, with the full-run
// defaults and the `--quick` (BENCH_QUICK=1) sanity-run defaults. An explicit variable wins over
// either.
import { OPENAI_TARGETS, type OpenAiTargetName } from './target-launcher.js';

export interface BenchSettings {
  readonly quick: boolean;
  /** `--install-peers`: install the peers and exit. */
  readonly installOnly: boolean;
  readonly rounds: number;
  readonly durationS: number;
  readonly warmupS: number;
  /** Closed-loop warm-up of every target once, before round 1. */
  readonly initialWarmupS: number;
  /** Open-loop non-streaming rates, requests/s. */
  readonly rates: number[];
  /** Closed-loop clients for the throughput run. */
  readonly clients: number;
  /** Streams started per second in the stream run; tokens per stream; ms between tokens upstream. */
  readonly streamRate: number;
  readonly streamTokens: number;
  readonly tokenMs: number;
  /** Streams held open together in the memory run, and the upstream's token interval meanwhile. */
  readonly heldStreams: number;
  readonly heldTokenMs: number;
  /** KServe V2 open-loop rate (requests/s). */
  readonly v2Rate: number;
  readonly targets: OpenAiTargetName[];
  /** Run the KServe V2 rows. */
  readonly v2: boolean;
  /**
   * Also the V2 closed loop. Off by default: the direct gRPC baseline saturates the load generator's
   * core (grpc-js client + the runtime), so it measures CPU 0, not the router.
   */
  readonly v2Throughput: boolean;
  readonly pin: boolean;
  readonly json: string | undefined;
  /** Redo a window whose residual CPU (other processes) exceeded maxOtherCpu × window seconds, this many times. */
  readonly retries: number;
  readonly maxOtherCpu: number;
  readonly quietMaxWaitS: number;
}

function intEnv(name: string, fallback: number, min = 0): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${value}`);
  return n;
}

function numberEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${value}`);
  return n;
}

function listEnv(name: string, fallback: number[]): number[] {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const items = value.split(',').map((v) => Number(v.trim()));
  if (items.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`${name} must be comma-separated positive numbers, got ${value}`);
  return items;
}

function targetsEnv(): OpenAiTargetName[] {
  const value = process.env.BENCH_TARGETS;
  if (value === undefined || value === '') return [...OPENAI_TARGETS];
  const picked = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  const unknown = picked.filter((v) => !(OPENAI_TARGETS as readonly string[]).includes(v));
  if (unknown.length > 0) throw new Error(`BENCH_TARGETS: unknown ${unknown.join(', ')} (known: ${OPENAI_TARGETS.join(', ')})`);
  return OPENAI_TARGETS.filter((t) => picked.includes(t));
}

export function benchSettings(argv: readonly string[]): BenchSettings {
  const unknownFlags = argv.filter((a) => a !== '--quick' && a !== '--install-peers');
  if (unknownFlags.length > 0) throw new Error(`unknown flag ${unknownFlags.join(' ')} (flags: --quick, --install-peers; the rest is BENCH_* environment)`);
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  return {
    quick,
    installOnly: argv.includes('--install-peers'),
    rounds: intEnv('BENCH_ROUNDS', quick ? 1 : 3, 1),
    durationS: intEnv('BENCH_DURATION_S', quick ? 2 : 4, 1),
    warmupS: intEnv('BENCH_WARMUP_S', 1),
    initialWarmupS: intEnv('BENCH_INITIAL_WARMUP_S', quick ? 1 : 2),
    rates: listEnv('BENCH_RATES', quick ? [200] : [100, 500, 1000]),
    clients: intEnv('BENCH_CLIENTS', 32, 1),
    streamRate: numberEnv('BENCH_STREAM_RATE', 50),
    streamTokens: intEnv('BENCH_STREAM_TOKENS', 10, 2),
    tokenMs: numberEnv('BENCH_TOKEN_MS', 5),
    heldStreams: intEnv('BENCH_HELD_STREAMS', quick ? 200 : 1000, 0),
    heldTokenMs: numberEnv('BENCH_HELD_TOKEN_MS', 2000),
    v2Rate: numberEnv('BENCH_V2_RATE', quick ? 200 : 500),
    targets: targetsEnv(),
    v2: intEnv('BENCH_V2', 1) === 1,
    v2Throughput: intEnv('BENCH_V2_THROUGHPUT', 0) === 1,
    pin: intEnv('BENCH_PIN', 1) === 1,
    json: process.env.BENCH_JSON === undefined || process.env.BENCH_JSON === '' ? undefined : process.env.BENCH_JSON,
    retries: intEnv('BENCH_RETRIES', quick ? 0 : 2),
    maxOtherCpu: numberEnv('BENCH_MAX_OTHER_CPU', 0.1),
    quietMaxWaitS: intEnv('BENCH_QUIET_MAX_WAIT_S', quick ? 0 : 120),
  };
}

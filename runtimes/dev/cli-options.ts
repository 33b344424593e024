// The dev runtime's flags: one table gives each flag's env name, parser, default and help line;
// command-line values win over DEV_RUNTIME_<FLAG> environment variables, which win over defaults.
// `--profile NAME` then fills in what the calibrated profile decides (the served model, the
// instance count); giving it together with a flag of the hand-set cost model is an error, since
// the profile is that cost model.
import { getProfile, PROFILE_NAMES } from './profiles/index.js';

export type LlmFinalResponse = 'with-outputs' | 'empty';

export interface DevRuntimeOptions {
  host: string;
  grpcPort: number;
  httpPort: number;
  openaiPort: number;
  models: string[];
  instances: number;
  dynamicBatching: boolean;
  latencyAMs: number;
  latencyBMs: number;
  tokenLatencyMs: number;
  prefillMsPerToken: number;
  errorRate: number;
  hangRate: number;
  crashAfter: number;
  llmFinalResponse: LlmFinalResponse;
  llmMaxSequences: number;
  /** OTLP/HTTP traces URL (e.g. http://localhost:4318/v1/traces); '' = tracing off. */
  otlpEndpoint: string;
  /** A calibrated GPU profile name (runtimes/dev/profiles); '' = the hand-set cost model. */
  profile: string;
}

export const DEFAULT_OPTIONS: Readonly<DevRuntimeOptions> = Object.freeze({
  host: '127.0.0.1',
  grpcPort: 18001,
  httpPort: 18000,
  openaiPort: 18002,
  models: ['iris', 'tiny-llm', 'tiny-llm-trt'],
  instances: 1,
  dynamicBatching: false,
  latencyAMs: 4,
  latencyBMs: 0.05,
  tokenLatencyMs: 20,
  prefillMsPerToken: 0.05,
  errorRate: 0,
  hangRate: 0,
  crashAfter: 0,
  llmFinalResponse: 'with-outputs',
  llmMaxSequences: 16,
  otlpEndpoint: '',
  profile: '',
});

export class OptionsError extends Error {
  override name = 'OptionsError';
}

type Parser<T> = (text: string, flag: string) => T;

interface FlagSpec<K extends keyof DevRuntimeOptions> {
  key: K;
  parse: Parser<DevRuntimeOptions[K]>;
  /** Boolean flags may be given bare (`--dynamic-batching`). */
  bare?: DevRuntimeOptions[K];
  help: string;
}

function number(min: number, max: number, integer: boolean): Parser<number> {
  return (text, flag) => {
    const value = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      const kind = integer ? 'an integer' : 'a number';
      throw new OptionsError(`--${flag} must be ${kind} in ${min}..${max}, got '${text}'`);
    }
    return value;
  };
}

const port = number(0, 65535, true);

const bool: Parser<boolean> = (text, flag) => {
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new OptionsError(`--${flag} must be true or false, got '${text}'`);
};

const list: Parser<string[]> = (text, flag) => {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new OptionsError(`--${flag} needs at least one name`);
  return [...new Set(items)];
};

const finalResponse: Parser<LlmFinalResponse> = (text, flag) => {
  if (text === 'with-outputs' || text === 'empty') return text;
  throw new OptionsError(`--${flag} must be with-outputs or empty, got '${text}'`);
};

const httpUrl: Parser<string> = (text, flag) => {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new OptionsError(`--${flag} must be an http(s) URL, got '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OptionsError(`--${flag} must be an http(s) URL, got '${text}'`);
  return trimmed;
};

const profileName: Parser<string> = (text, flag) => {
  const name = text.trim();
  if (name === '' || getProfile(name) !== undefined) return name;
  throw new OptionsError(`--${flag} must be one of ${PROFILE_NAMES.join(', ')}, got '${text}'`);
};

const host: Parser<string> = (text, flag) => {
  if (text.trim() === '') throw new OptionsError(`--${flag} must not be empty`);
  return text.trim();
};

// Flag names are the kebab-case of the keys; env names are DEV_RUNTIME_ + upper snake case.
const FLAGS: { [K in keyof DevRuntimeOptions]: FlagSpec<K> } = {
  host: { key: 'host', parse: host, help: 'address all listeners bind to' },
  grpcPort: { key: 'grpcPort', parse: port, help: 'gRPC port (inference.GRPCInferenceService, grpc.health.v1); 0 = ephemeral' },
  httpPort: { key: 'httpPort', parse: port, help: 'HTTP port (/v2/health/*, /metrics, /dev/*); 0 = ephemeral' },
  openaiPort: { key: 'openaiPort', parse: port, help: "OpenAI HTTP port, vLLM's OpenAI server (/v1/chat/completions, /v1/completions, /v1/models, /health); 0 = ephemeral" },
  models: { key: 'models', parse: list, help: 'comma-separated models to serve: iris, tiny-llm, tiny-llm-trt; resnet50 / llama3 with a matching --profile' },
  instances: { key: 'instances', parse: number(1, 64, true), help: 'model instances per model (parallel executions)' },
  dynamicBatching: { key: 'dynamicBatching', parse: bool, bare: true, help: "iris: merge queued requests into one execution (Triton's dynamic batcher, no delay)" },
  latencyAMs: { key: 'latencyAMs', parse: number(0, 60_000, false), help: 'cost model: fixed ms per execution (a in a + b*batch)' },
  latencyBMs: { key: 'latencyBMs', parse: number(0, 60_000, false), help: 'cost model: ms per batch element (b in a + b*batch)' },
  tokenLatencyMs: { key: 'tokenLatencyMs', parse: number(0, 60_000, false), help: 'tiny-llm: ms per generated token' },
  prefillMsPerToken: { key: 'prefillMsPerToken', parse: number(0, 60_000, false), help: 'tiny-llm: ms per prompt token before the first token' },
  errorRate: { key: 'errorRate', parse: number(0, 1, false), help: 'fraction of inference calls failing with INTERNAL "injected fault"' },
  hangRate: { key: 'hangRate', parse: number(0, 1, false), help: 'fraction of inference calls never answered (until cancel/deadline)' },
  crashAfter: { key: 'crashAfter', parse: number(0, Number.MAX_SAFE_INTEGER, true), help: 'exit abruptly (code 70) during the N-th inference call; 0 = never' },
  llmFinalResponse: { key: 'llmFinalResponse', parse: finalResponse, help: 'tiny-llm streaming end: with-outputs (vLLM backend) or empty (flags-only, TRT-LLM style)' },
  llmMaxSequences: { key: 'llmMaxSequences', parse: number(1, 4096, true), help: 'tiny-llm: concurrent sequences per instance; more wait in a FIFO queue' },
  otlpEndpoint: {
    key: 'otlpEndpoint',
    parse: httpUrl,
    help: "OTLP/HTTP traces URL (e.g. http://localhost:4318/v1/traces): a SERVER span per inference, child of the caller's traceparent; empty = off",
  },
  profile: {
    key: 'profile',
    parse: profileName,
    help: `calibrated GPU cost model (docs/capacity.md): ${PROFILE_NAMES.join(', ')}; serves its model (resnet50 or llama3) unless --models is given; excludes the cost flags`,
  },
};

/** The hand-set cost model a profile replaces; combining them with --profile is an error. */
export const COST_FLAG_KEYS: readonly (keyof DevRuntimeOptions)[] = ['latencyAMs', 'latencyBMs', 'tokenLatencyMs', 'prefillMsPerToken', 'llmMaxSequences'];

const KEYS = Object.keys(FLAGS) as (keyof DevRuntimeOptions)[];

export function flagName(key: keyof DevRuntimeOptions): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function envName(key: keyof DevRuntimeOptions): string {
  return `DEV_RUNTIME_${flagName(key).replace(/-/g, '_').toUpperCase()}`;
}

const BY_FLAG = new Map(KEYS.map((key) => [flagName(key), key]));

function assign<K extends keyof DevRuntimeOptions>(target: DevRuntimeOptions, key: K, text: string): void {
  target[key] = FLAGS[key].parse(text, flagName(key));
}

/** Options from argv (without node and script) over env over defaults; throws OptionsError. */
export function parseCliOptions(argv: readonly string[], env: NodeJS.ProcessEnv = {}): DevRuntimeOptions {
  const options: DevRuntimeOptions = { ...DEFAULT_OPTIONS, models: [...DEFAULT_OPTIONS.models] };
  const explicit = new Set<keyof DevRuntimeOptions>();
  for (const key of KEYS) {
    const text = env[envName(key)];
    if (text !== undefined && text !== '') {
      assign(options, key, text);
      explicit.add(key);
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new OptionsError(`unexpected argument '${arg}' (flags look like --name value)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const key = BY_FLAG.get(name);
    if (key === undefined) throw new OptionsError(`unknown flag --${name} (see --help)`);
    const spec: FlagSpec<typeof key> = FLAGS[key];
    explicit.add(key);
    if (eq !== -1) {
      assign(options, key, arg.slice(eq + 1));
    } else if (spec.bare !== undefined && (argv[i + 1] === undefined || (argv[i + 1] as string).startsWith('--'))) {
      (options as unknown as Record<string, unknown>)[key] = spec.bare;
    } else {
      const value = argv[i + 1];
      if (value === undefined) throw new OptionsError(`--${name} needs a value`);
      assign(options, key, value);
      i++;
    }
  }
  return applyProfile(options, explicit);
}

/** What --profile decides unless given explicitly: the served model, the instance count. */
function applyProfile(options: DevRuntimeOptions, explicit: ReadonlySet<keyof DevRuntimeOptions>): DevRuntimeOptions {
  const profile = options.profile === '' ? undefined : getProfile(options.profile);
  if (profile === undefined) return options;
  const clashing = COST_FLAG_KEYS.filter((key) => explicit.has(key));
  if (clashing.length > 0) {
    throw new OptionsError(`--profile sets the cost model; it cannot be combined with ${clashing.map((k) => `--${flagName(k)}`).join(', ')}`);
  }
  if (!explicit.has('models')) options.models = [profile.model];
  if (!explicit.has('instances') && profile.kind === 'vision') options.instances = profile.instances;
  return options;
}

export function usage(): string {
  const lines = KEYS.map((key) => {
    const def = DEFAULT_OPTIONS[key];
    const shown = Array.isArray(def) ? def.join(',') : def === '' ? 'off' : String(def);
    return `  --${flagName(key).padEnd(22)} ${FLAGS[key].help} (default ${shown}; env ${envName(key)})`;
  });
  return ['Usage: node --import tsx runtimes/dev/main.ts [flags]', '', ...lines, ''].join('\n');
}

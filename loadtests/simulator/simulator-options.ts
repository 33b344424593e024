// The simulator's command line: one table gives each flag's parser, default and help line; an
// unknown flag or a bad value is an OptionsError (main.ts exits 2 with its message).
import { OVERLAYS, type Overlay } from './read-hpa-specs.js';

export const SCALE_ON = ['manifest', 'gpu-util', 'queue', 'inflight'] as const;
export type ScaleOn = (typeof SCALE_ON)[number];

export interface SimulatorOptions {
  profile: string;
  trace: string;
  scaleOn: ScaleOn;
  /** Undefined = the default target for --scale-on (README). */
  target: number | undefined;
  /** Undefined = the profile's GPU pool (A10 → gpu-a10, A100 → gpu-a100). */
  overlay: Overlay | undefined;
  seed: number;
  /** 'auto' = fit the trace's peak to peakLoad × max fleet capacity. */
  rateScale: number | 'auto';
  peakLoad: number;
  /** Initial replicas (autoscaled) or the fixed fleet (--no-autoscale). */
  replicas: number | undefined;
  autoscale: boolean;
  minReplicas: number | undefined;
  maxReplicas: number | undefined;
  sloMs: number | undefined;
  out: string | undefined;
  windowS: number;
  pendingS: number | undefined;
  loadingS: number | undefined;
  maxQueueDelayMs: number;
  routerMaxInFlight: number;
  /** The cluster's circuitBreaker.maxInFlightPerEndpoint: beyond it requests wait at the router. */
  maxInFlightPerEndpoint: number;
  help: boolean;
}

export class OptionsError extends Error {
  override name = 'OptionsError';
}

export const DEFAULTS: Readonly<SimulatorOptions> = Object.freeze({
  profile: '',
  trace: 'spike',
  scaleOn: 'manifest',
  target: undefined,
  overlay: undefined,
  seed: 1,
  rateScale: 'auto',
  peakLoad: 0.7,
  replicas: undefined,
  autoscale: true,
  minReplicas: undefined,
  maxReplicas: undefined,
  sloMs: undefined,
  out: undefined,
  windowS: 60,
  pendingS: undefined,
  loadingS: undefined,
  maxQueueDelayMs: 0,
  routerMaxInFlight: 1024,
  maxInFlightPerEndpoint: 256,
  help: false,
});

type Setter = (o: SimulatorOptions, value: string, flag: string) => void;

function num(min: number, max: number, integer: boolean, set: (o: SimulatorOptions, v: number) => void): Setter {
  return (o, text, flag) => {
    const v = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      throw new OptionsError(`--${flag} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got '${text}'`);
    }
    set(o, v);
  };
}

function oneOf<T extends string>(values: readonly T[], set: (o: SimulatorOptions, v: T) => void): Setter {
  return (o, text, flag) => {
    if (!(values as readonly string[]).includes(text)) throw new OptionsError(`--${flag} must be one of ${values.join(', ')}, got '${text}'`);
    set(o, text as T);
  };
}

interface Flag {
  readonly set: Setter;
  readonly bare?: true;
  readonly help: string;
}

export const FLAGS: Readonly<Record<string, Flag>> = {
  profile: { set: (o, v) => void (o.profile = v), help: 'calibrated profile (runtimes/dev/profiles), e.g. resnet50-trt-fp16-a10, llama3-8b-vllm-a100 (required)' },
  trace: { set: (o, v) => void (o.trace = v), help: 'constant | ramp | diurnal | spike (loadtests/traces), or a trace JSON path [spike]' },
  'scale-on': { set: oneOf(SCALE_ON, (o, v) => void (o.scaleOn = v)), help: 'manifest = the shipped HPA as is; gpu-util | queue | inflight = that one metric, the manifest\'s behavior/min/max [manifest]' },
  target: { set: num(1e-9, 1e9, false, (o, v) => void (o.target = v)), help: 'AverageValue target per pod for --scale-on gpu-util|queue|inflight [README defaults]' },
  overlay: { set: oneOf(OVERLAYS, (o, v) => void (o.overlay = v)), help: 'deploy/k8s overlay whose HPA patches apply [the profile\'s GPU: gpu-a10 | gpu-a100]' },
  seed: { set: num(0, 2 ** 32 - 1, true, (o, v) => void (o.seed = v)), help: 'PRNG seed; the same seed gives a byte-identical summary.json [1]' },
  'rate-scale': {
    set: (o, text, flag) => {
      if (text === 'auto') o.rateScale = 'auto';
      else num(1e-9, 1e9, false, (oo, v) => void (oo.rateScale = v))(o, text, flag);
    },
    help: 'multiply the trace\'s rates by x, or auto: peak = --peak-load × max replicas × one replica\'s capacity [auto]',
  },
  'peak-load': { set: num(0.01, 10, false, (o, v) => void (o.peakLoad = v)), help: 'with --rate-scale auto: the trace peak as a share of the max fleet\'s capacity [0.7]' },
  replicas: { set: num(1, 1000, true, (o, v) => void (o.replicas = v)), help: 'initial Ready replicas (autoscaled) or the fixed fleet (--no-autoscale) [enough for the trace\'s first rate at 70 % of capacity]' },
  'no-autoscale': { set: (o) => void (o.autoscale = false), bare: true, help: 'a fixed fleet of --replicas' },
  'min-replicas': { set: num(1, 1000, true, (o, v) => void (o.minReplicas = v)), help: 'override the HPA\'s minReplicas' },
  'max-replicas': { set: num(1, 1000, true, (o, v) => void (o.maxReplicas = v)), help: 'override the HPA\'s maxReplicas' },
  'slo-ms': { set: num(1e-3, 1e7, false, (o, v) => void (o.sloMs = v)), help: 'latency (vision) / TTFT (LLM) SLO in ms [15 vision, 2000 LLM]' },
  out: { set: (o, v) => void (o.out = v), help: 'output directory [loadtests/results/simulator/<profile>-<trace>-<scale-on>]' },
  'window-s': { set: num(1, 3600, false, (o, v) => void (o.windowS = v)), help: 'timeline window in seconds [60]' },
  'pending-s': { set: num(0, 7200, false, (o, v) => void (o.pendingS = v)), help: 'pod Pending time: scheduling + image pull [60 vision, 90 LLM]' },
  'loading-s': { set: num(0, 7200, false, (o, v) => void (o.loadingS = v)), help: 'pod Running-not-Ready time: model load [30 vision, 150 LLM]' },
  'max-queue-delay-ms': { set: num(0, 1000, false, (o, v) => void (o.maxQueueDelayMs = v)), help: 'vision: Triton dynamic batcher max queue delay [0, as the dev runtime]' },
  'router-max-in-flight': { set: num(1, 1e6, true, (o, v) => void (o.routerMaxInFlight = v)), help: 'router limits.maxInFlight; beyond it requests are shed (503) [1024]' },
  'max-in-flight-per-endpoint': {
    set: num(1, 1e6, true, (o, v) => void (o.maxInFlightPerEndpoint = v)),
    help: "the cluster's circuitBreaker.maxInFlightPerEndpoint; requests beyond it wait at the router, where any replica (a new one too) can take them [256]",
  },
  help: { set: (o) => void (o.help = true), bare: true, help: 'this text' },
};

export function parseSimulatorArgs(argv: readonly string[]): SimulatorOptions {
  const o: SimulatorOptions = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new OptionsError(`unexpected argument '${arg}' (flags are --name value)`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const flag = FLAGS[name];
    if (flag === undefined) throw new OptionsError(`unknown flag --${name} (see --help)`);
    if (flag.bare) {
      if (eq >= 0) throw new OptionsError(`--${name} takes no value`);
      flag.set(o, '', name);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new OptionsError(`--${name} needs a value`);
    flag.set(o, value, name);
  }
  if (!o.help && o.profile === '') throw new OptionsError('--profile is required (see --help)');
  if (o.target !== undefined && o.scaleOn === 'manifest') throw new OptionsError('--target needs --scale-on gpu-util, queue or inflight');
  if (!o.autoscale && (o.scaleOn !== 'manifest' || o.target !== undefined)) throw new OptionsError('--no-autoscale cannot be combined with --scale-on/--target');
  return o;
}

export function helpText(): string {
  const lines = ['Usage: npm run simulate -- --profile NAME [--trace spike] [flags]', '', 'Replays a request-rate trace against GPU replicas behind the router\'s picker, scaled by the Kubernetes HPA model.', ''];
  for (const [name, f] of Object.entries(FLAGS)) lines.push(`  --${name}${f.bare ? '' : ' VALUE'}`.padEnd(34) + f.help);
  return lines.join('\n');
}

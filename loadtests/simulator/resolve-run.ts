// Turns command-line options into one fully-specified run: the profile, the scaled trace, the HPA
// spec read from deploy/ (or the single-metric variant), and every default made explicit, so the
// summary can state all of its inputs.
import { getProfile, PROFILE_NAMES } from '../../runtimes/dev/profiles/index.js';
import type { GpuProfile } from '../../runtimes/dev/profiles/gpu-profile.js';
import { DEFAULT_TOLERANCE, type HpaSpec, type MetricSpec } from './hpa.js';
import { readHpaSpecs, type Overlay } from './read-hpa-specs.js';
import { replicaCapacity } from './replica-capacity.js';
import { DEFAULT_LLM_MIX } from './request-mix.js';
import { METRIC, round, runSimulation, type SimulationConfig } from './simulation.js';
import { OptionsError, type SimulatorOptions } from './simulator-options.js';
import { loadTrace, scaleTrace, traceDuration, tracePeak, type Trace } from './trace.js';

/** Per-profile-kind defaults; README.md gives the reasoning and sources. */
export const KIND_DEFAULTS = {
  vision: { sloMs: 15, pendingS: 60, loadingS: 30, deployment: 'triton', queueMetric: METRIC.tritonQueue },
  llm: { sloMs: 2000, pendingS: 90, loadingS: 150, deployment: 'vllm', queueMetric: METRIC.vllmWaiting },
} as const;

export const GPU_UTIL_TARGET = 80;
/** terminationGracePeriodSeconds of deploy/k8s/components/gpu-serving/{triton,vllm}.yaml. */
export const TERMINATION_GRACE_S = 60;
/** In-flight target = requests a replica holds at this share of its capacity (calibrated by a short fixed-rate run). */
export const INFLIGHT_CALIBRATION_LOAD = 0.7;

export interface ResolvedRun {
  readonly config: SimulationConfig;
  /** Everything summary.json states about its inputs. */
  readonly inputs: Record<string, unknown>;
  readonly name: string;
}

export function resolveRun(options: SimulatorOptions, repoRoot: string): ResolvedRun {
  const profile = getProfile(options.profile);
  if (profile === undefined) throw new OptionsError(`unknown --profile '${options.profile}' (one of ${PROFILE_NAMES.join(', ')})`);
  const kind = KIND_DEFAULTS[profile.kind];
  const overlay: Overlay = options.overlay ?? (profile.gpu === 'A100' ? 'gpu-a100' : 'gpu-a10');
  let trace: Trace;
  try {
    trace = loadTrace(repoRoot, options.trace);
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  const capacity = replicaCapacity(profile);

  let hpa: HpaSpec | undefined;
  let targetNote: string | undefined;
  if (options.autoscale) {
    const manifest = readHpaSpecs(repoRoot, overlay).get(kind.deployment);
    if (manifest === undefined) throw new OptionsError(`no HPA named ${kind.deployment} in the manifests`);
    let metrics: readonly MetricSpec[] = manifest.metrics;
    if (options.scaleOn !== 'manifest') {
      const { type, name, target, note } = singleMetric(options, profile, manifest, capacity.rps);
      metrics = [{ type, name, target: { type: 'AverageValue', averageValue: target } }];
      targetNote = note;
    }
    hpa = {
      ...manifest,
      minReplicas: options.minReplicas ?? manifest.minReplicas,
      maxReplicas: options.maxReplicas ?? manifest.maxReplicas,
      metrics,
    };
    if (hpa.minReplicas > hpa.maxReplicas) throw new OptionsError(`minReplicas ${hpa.minReplicas} > maxReplicas ${hpa.maxReplicas}`);
  }
  const fleetMax = hpa?.maxReplicas ?? options.replicas ?? 1;
  const rateScale = options.rateScale === 'auto' ? (options.peakLoad * fleetMax * capacity.rps) / tracePeak(trace) : options.rateScale;
  const scaled = scaleTrace(trace, rateScale);
  // A warm start: enough Ready replicas for the trace's first rate at 70 % of capacity, so a run
  // shows the trace's dynamics rather than a cold-start transient.
  const firstRate = (scaled.points[0] as readonly [number, number])[1];
  const initialReplicas = options.replicas ?? Math.max(1, Math.ceil(firstRate / (INFLIGHT_CALIBRATION_LOAD * capacity.rps)));
  const config: SimulationConfig = {
    profile,
    trace: scaled,
    seed: options.seed,
    hpa,
    initialReplicas: hpa === undefined ? initialReplicas : Math.min(hpa.maxReplicas, Math.max(hpa.minReplicas, initialReplicas)),
    pendingS: options.pendingS ?? kind.pendingS,
    loadingS: options.loadingS ?? kind.loadingS,
    scrapeIntervalS: 15,
    syncPeriodS: 15,
    syncOffsetS: 5,
    utilWindowS: 1,
    terminationGraceS: TERMINATION_GRACE_S,
    routerMaxInFlight: options.routerMaxInFlight,
    maxInFlightPerEndpoint: options.maxInFlightPerEndpoint,
    pickerChoices: 2,
    dynamicBatching: true,
    maxQueueDelayMs: options.maxQueueDelayMs,
    sloMs: options.sloMs ?? kind.sloMs,
    windowS: options.windowS,
    tolerance: DEFAULT_TOLERANCE,
  };
  const name = `${profile.name}-${trace.name}-${options.autoscale ? options.scaleOn : `fixed${initialReplicas}`}`;
  const inputs: Record<string, unknown> = {
    profile: { name: profile.name, kind: profile.kind, gpu: profile.gpu, model: profile.model },
    replicaCapacity: { rps: round(capacity.rps), concurrency: capacity.concurrency },
    trace: { name: trace.name, source: options.trace, durationS: traceDuration(trace), rateScale: round(rateScale, 6), peakRps: round(tracePeak(scaled)) },
    seed: options.seed,
    autoscale: options.autoscale,
    scaleOn: options.autoscale ? options.scaleOn : null,
    ...(targetNote ? { targetNote } : {}),
    overlay,
    hpa: hpa ?? null,
    initialReplicas: config.initialReplicas,
    podStartup: { pendingS: config.pendingS, loadingS: config.loadingS },
    metricsPipeline: { scrapeIntervalS: config.scrapeIntervalS, hpaSyncPeriodS: config.syncPeriodS, syncAfterScrapeS: config.syncOffsetS, gpuUtilWindowS: config.utilWindowS, tolerance: config.tolerance },
    podTermination: { graceS: config.terminationGraceS },
    router: { picker: { type: 'least-request', choices: config.pickerChoices }, maxInFlight: config.routerMaxInFlight, maxInFlightPerEndpoint: config.maxInFlightPerEndpoint },
    ...(profile.kind === 'vision' ? { batching: { dynamicBatching: true, maxBatchSize: profile.maxBatchSize, instances: profile.instances, maxQueueDelayMs: config.maxQueueDelayMs } } : { requestMix: DEFAULT_LLM_MIX }),
    sloMs: config.sloMs,
    sloMetric: profile.kind === 'vision' ? 'latency' : 'ttft',
    windowS: config.windowS,
  };
  return { config, inputs, name };
}

function singleMetric(options: SimulatorOptions, profile: GpuProfile, manifest: HpaSpec, capacityRps: number): { type: 'Pods' | 'External'; name: string; target: number; note?: string } {
  const kind = KIND_DEFAULTS[profile.kind];
  const fromManifest = (name: string): number | undefined => {
    const m = manifest.metrics.find((x) => x.name === name);
    return m?.target.type === 'AverageValue' ? m.target.averageValue : undefined;
  };
  switch (options.scaleOn) {
    case 'gpu-util':
      return { type: 'Pods', name: METRIC.gpuUtil, target: options.target ?? fromManifest(METRIC.gpuUtil) ?? GPU_UTIL_TARGET };
    case 'queue':
      return { type: 'Pods', name: kind.queueMetric, target: options.target ?? fromManifest(kind.queueMetric) ?? 5 };
    default: {
      // As deploy/ ships it: an External metric (the router's in-flight summed over the cluster), AverageValue per replica.
      const metric = { type: 'External', name: METRIC.routerClusterInFlight } as const;
      const manifestTarget = fromManifest(METRIC.routerClusterInFlight);
      if (options.target !== undefined || manifestTarget !== undefined) return { ...metric, target: options.target ?? (manifestTarget as number) };
      const target = calibrateInFlight(profile, capacityRps, options.seed);
      return { ...metric, target, note: `in-flight target = mean requests in flight on one replica at ${INFLIGHT_CALIBRATION_LOAD * 100}% of its capacity (a fixed-rate run)` };
    }
  }
}

/**
 * A fixed fleet (no HPA) of one Ready replica, nothing starting, no router limit: the base of
 * calibration runs and tests, which override what they study.
 */
export function fixedFleetConfig(profile: GpuProfile, trace: Trace, overrides: Partial<SimulationConfig> = {}): SimulationConfig {
  return {
    profile,
    trace,
    seed: 1,
    hpa: undefined,
    initialReplicas: 1,
    pendingS: 0,
    loadingS: 0,
    scrapeIntervalS: 15,
    syncPeriodS: 15,
    syncOffsetS: 5,
    utilWindowS: 1,
    terminationGraceS: TERMINATION_GRACE_S,
    routerMaxInFlight: 1_000_000,
    maxInFlightPerEndpoint: 1_000_000,
    pickerChoices: 2,
    dynamicBatching: true,
    maxQueueDelayMs: 0,
    sloMs: 1e9,
    windowS: 60,
    tolerance: DEFAULT_TOLERANCE,
    ...overrides,
  };
}

/** Little's law on a short fixed-rate, one-replica run: requests in flight = rate × mean time in system. */
export function calibrateInFlight(profile: GpuProfile, capacityRps: number, seed: number): number {
  const rate = INFLIGHT_CALIBRATION_LOAD * capacityRps;
  const duration = profile.kind === 'vision' ? 60 : 1800;
  const trace: Trace = { name: 'calibration', description: '', unit: 'requests/s', points: [[0, rate], [duration, rate]] };
  const { totals } = runSimulation(fixedFleetConfig(profile, trace, { seed, sloMs: 1e9, windowS: duration }));
  const meanMs = profile.kind === 'vision' ? totals.latency.meanMs : (totals.e2e?.meanMs ?? 0);
  return Math.max(1, round((rate * meanMs) / 1000, 1));
}

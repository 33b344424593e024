// The discrete-event simulation: a trace's arrivals go through the router model (load shedding,
// per-endpoint breaker, the real picker) to GPU pods that start, serve, get scraped, and are
// scaled by the HPA model — all in virtual seconds on one event queue, so a run is a pure
// function of its inputs and seed.
//
// Pod lifecycle (assumptions in README.md): Pending for `pendingS` (scheduling, image pull;
// unready for the HPA, no metrics), then Running-not-Ready for `loadingS` (model load; DCGM
// reports the GPU, the server's own metrics endpoint is not up yet), then Ready (the router's
// endpoint list includes it). A deleted pod leaves the endpoint list at once, finishes what it
// has (drain), then releases its GPU. GPU-hours count every pod from creation to release.
import { LeastRequestPicker, type EndpointLoad, type Picker } from '../../router/clusters/scheduler/index.js';
import type { GpuProfile } from '../../runtimes/dev/profiles/gpu-profile.js';
import { EventQueue, type SimEvent } from './event-queue.js';
import { Hpa, type HpaDecision, type HpaSpec, type PodObservation } from './hpa.js';
import { LatencyHistogram } from './latency-histogram.js';
import { LlmReplica } from './llm-replica.js';
import { PoissonArrivals } from './poisson-arrivals.js';
import type { Replica, ReplicaHost, SimRequest } from './replica.js';
import { RequestMix, type RequestShape } from './request-mix.js';
import { SeededRandom } from './seeded-random.js';
import { meanRate, traceDuration, type Trace } from './trace.js';
import { VisionReplica } from './vision-replica.js';

/** Metric names as the HPA manifests and the prometheus-adapter rules spell them. */
export const METRIC = {
  tritonQueue: 'nv_inference_pending_request_count',
  gpuUtil: 'dcgm_gpu_utilization',
  vllmWaiting: 'vllm_num_requests_waiting',
  /** External metric: the router's in-flight requests summed over a cluster's endpoints (prometheus-adapter externalRules). */
  routerClusterInFlight: 'switchyard_cluster_requests_in_flight',
} as const;

export interface SimulationConfig {
  readonly profile: GpuProfile;
  /** Already rate-scaled. */
  readonly trace: Trace;
  readonly seed: number;
  /** Undefined = a fixed fleet of `initialReplicas`. */
  readonly hpa: HpaSpec | undefined;
  readonly initialReplicas: number;
  readonly pendingS: number;
  readonly loadingS: number;
  readonly scrapeIntervalS: number;
  readonly syncPeriodS: number;
  /** Seconds after a scrape the HPA syncs (the adapter/Prometheus lag before the controller reads). */
  readonly syncOffsetS: number;
  /** NVML's utilisation sample period: DCGM's GPU_UTIL is the busy share of the last this-many seconds. */
  readonly utilWindowS: number;
  /** terminationGracePeriodSeconds of the GPU pods: a deleted pod's unfinished requests are lost after it. */
  readonly terminationGraceS: number;
  readonly routerMaxInFlight: number;
  readonly maxInFlightPerEndpoint: number;
  readonly pickerChoices: number;
  readonly dynamicBatching: boolean;
  readonly maxQueueDelayMs: number;
  readonly sloMs: number;
  readonly windowS: number;
  readonly tolerance: number;
  /** Every request this shape instead of the profile kind's mix (fixed-shape replays, validation). */
  readonly requestShape?: RequestShape;
}

export interface WindowStats {
  /** Window start, seconds. */
  readonly t: number;
  readonly offeredRps: number;
  readonly arrivals: number;
  readonly completed: number;
  readonly shed: number;
  /** Lost when a draining pod was killed at the end of its grace period. */
  readonly killed: number;
  readonly replicasReady: number;
  readonly replicasStarting: number;
  readonly replicasDraining: number;
  /** The HPA's last decision in the window: desired replicas and the metric values it saw. */
  readonly hpaDesired: number | undefined;
  readonly hpaMetrics: Readonly<Record<string, number | null>>;
  /** Latency (vision) or TTFT (LLM), ms, of requests answered (first token) in the window. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface LatencyStats {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
  readonly count: number;
}

export interface SimulationTotals {
  readonly requests: number;
  readonly completed: number;
  readonly shed: number;
  /** Requests lost when a deleted pod's termination grace period ran out. */
  readonly killed: number;
  /** Still queued or running when the trace ended. */
  readonly inFlightAtEnd: number;
  readonly sloMs: number;
  /** Requests answered above the SLO, plus every shed or killed request. */
  readonly sloViolations: number;
  readonly sloViolationRate: number;
  /** Latency for vision, TTFT for LLMs. */
  readonly latency: LatencyStats;
  /** LLM only. */
  readonly e2e?: LatencyStats;
  readonly itl?: LatencyStats;
  readonly preemptions?: number;
  readonly gpuHours: number;
  readonly replicasMax: number;
  readonly replicasMeanReady: number;
  readonly scaleUps: number;
  readonly scaleDowns: number;
}

export interface SimulationResult {
  readonly timeline: readonly WindowStats[];
  readonly totals: SimulationTotals;
}

type PodPhase = 'pending' | 'loading' | 'ready' | 'draining' | 'gone';

/** A pod and its router-side endpoint slot (the picker reads `inFlight`). */
class Pod implements EndpointLoad {
  readonly endpoint: { readonly address: string; readonly cluster: string };
  inFlight = 0;
  phase: PodPhase = 'pending';
  /** Prometheus's latest sample of this pod's series; undefined = never scraped. */
  sample: Record<string, number | undefined> | undefined;
  busyMark = 0;

  constructor(
    readonly id: number,
    readonly createdAt: number,
    readonly replica: Replica,
  ) {
    this.endpoint = { address: `10.0.${(id >> 8) & 255}.${id & 255}:8001`, cluster: 'gpu' };
  }
}

const enum Ev {
  Arrival,
  Replica,
  PodLoading,
  PodReady,
  PodKill,
  UtilMark,
  Scrape,
  Sync,
  Window,
}

interface Event extends SimEvent {
  readonly type: Ev;
  readonly target: Replica | Pod | undefined;
  readonly kind: number;
  readonly payload: unknown;
}

function latencyStats(h: LatencyHistogram): LatencyStats {
  return { p50Ms: round(h.quantile(0.5)), p99Ms: round(h.quantile(0.99)), meanMs: round(h.mean), maxMs: round(h.max), count: h.count };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function runSimulation(config: SimulationConfig): SimulationResult {
  return new Simulation(config).run();
}

class Simulation implements ReplicaHost {
  readonly #c: SimulationConfig;
  readonly #queue = new EventQueue<Event>();
  readonly #arrivals: PoissonArrivals;
  readonly #mix: { next(): RequestShape };
  readonly #picker: Picker;
  readonly #hpa: Hpa | undefined;
  readonly #end: number;
  readonly #pods: Pod[] = [];
  #nextPodId = 0;
  /** Ready pods in creation order: the router's endpoint list. */
  #endpoints: Pod[] = [];
  /** External metric values as of the last scrape (what the adapter serves until the next one). */
  #externalSample: Record<string, number | undefined> = {};
  #atLimit = 0;
  #routerInFlight = 0;
  /** Requests waiting at the router for an endpoint under the breaker limit. */
  readonly #routerPending: SimRequest[] = [];
  #now = 0;
  // Accounting.
  #requests = 0;
  #completed = 0;
  #shed = 0;
  #killed = 0;
  #winKilled = 0;
  readonly #podOf = new Map<Replica, Pod>();
  #aboveSlo = 0;
  readonly #latency = new LatencyHistogram();
  readonly #e2e = new LatencyHistogram();
  readonly #itl = new LatencyHistogram();
  #winLatency = new LatencyHistogram();
  #winArrivals = 0;
  #winCompleted = 0;
  #winShed = 0;
  #lastDecision: HpaDecision | undefined;
  #winDecision: HpaDecision | undefined;
  readonly #timeline: WindowStats[] = [];
  #gpuSeconds = 0;
  #readySeconds = 0;
  #countsSince = 0;
  #replicasMax = 0;
  #scaleUps = 0;
  #scaleDowns = 0;
  #preemptionsGone = 0;

  constructor(config: SimulationConfig) {
    this.#c = config;
    const root = new SeededRandom(config.seed);
    this.#arrivals = new PoissonArrivals(config.trace, root.fork('arrivals'));
    const mix = new RequestMix(config.profile, root.fork('mix'));
    const fixed = config.requestShape;
    this.#mix = fixed === undefined ? mix : { next: () => fixed };
    // The router's own picker class with the cluster default (least-request, P2C), seeded.
    this.#picker = new LeastRequestPicker({ choices: config.pickerChoices }, root.fork('picker').next);
    this.#hpa = config.hpa === undefined ? undefined : new Hpa(config.hpa, { tolerance: config.tolerance });
    this.#end = traceDuration(config.trace);
  }

  run(): SimulationResult {
    const c = this.#c;
    // The run starts warm: the initial fleet is Ready at t = 0.
    for (let i = 0; i < c.initialReplicas; i++) this.#podReady(this.#createPod(0, false));
    this.#push(this.#arrivals.next(), Ev.Arrival);
    if (this.#hpa !== undefined) {
      for (let t = c.scrapeIntervalS; t <= this.#end; t += c.scrapeIntervalS) {
        this.#push(t - Math.min(c.utilWindowS, c.scrapeIntervalS), Ev.UtilMark);
        this.#push(t, Ev.Scrape);
      }
      for (let t = c.scrapeIntervalS + c.syncOffsetS; t <= this.#end; t += c.syncPeriodS) this.#push(t, Ev.Sync);
    }
    for (let t = c.windowS; t < this.#end + c.windowS; t += c.windowS) this.#push(Math.min(t, this.#end), Ev.Window);
    const q = this.#queue;
    for (let e = q.pop(); e !== undefined; e = q.pop()) {
      if (e.time > this.#end) break;
      this.#now = e.time;
      switch (e.type) {
        case Ev.Arrival:
          this.#onArrival(e.time);
          break;
        case Ev.Replica: {
          const replica = e.target as Replica;
          replica.onTimer(e.kind, e.payload, e.time);
          const pod = this.#podOf.get(replica);
          if (pod !== undefined && pod.phase === 'draining' && replica.outstanding === 0) this.#setPhase(pod, 'gone');
          break;
        }
        case Ev.PodKill:
          this.#kill(e.target as Pod);
          break;
        case Ev.PodLoading:
          // A pod deleted while Pending never starts.
          if ((e.target as Pod).phase === 'pending') this.#setPhase(e.target as Pod, 'loading');
          break;
        case Ev.PodReady:
          if ((e.target as Pod).phase === 'loading') this.#podReady(e.target as Pod);
          break;
        case Ev.UtilMark:
          for (const p of this.#pods) p.busyMark = p.replica.busySeconds(e.time);
          break;
        case Ev.Scrape:
          this.#scrape(e.time);
          break;
        case Ev.Sync:
          this.#sync(e.time);
          break;
        case Ev.Window:
          this.#closeWindow(e.time);
          break;
      }
    }
    this.#countPods(this.#end);
    return { timeline: this.#timeline, totals: this.#totals() };
  }

  #push(time: number | undefined, type: Ev, target?: Replica | Pod, kind = 0, payload?: unknown): void {
    if (time === undefined) return;
    this.#queue.push({ time, seq: 0, type, target, kind, payload });
  }

  // ReplicaHost
  schedule(time: number, replica: Replica, kind: number, payload: unknown): void {
    this.#push(time, Ev.Replica, replica, kind, payload);
  }

  firstToken(request: SimRequest, now: number): void {
    request.firstToken = now;
    this.#answered((now - request.arrival) * 1000);
  }

  complete(request: SimRequest, now: number): void {
    const pod = request.slot as Pod;
    this.#release(pod);
    this.#routerInFlight--;
    this.#completed++;
    this.#winCompleted++;
    if (this.#c.profile.kind === 'vision') {
      this.#answered((now - request.arrival) * 1000);
    } else {
      this.#e2e.record((now - request.arrival) * 1000);
      if (request.outputTokens > 1) this.#itl.record(((now - request.firstToken) * 1000) / (request.outputTokens - 1));
    }
    if (this.#routerPending.length > 0) this.#drainRouterPending(now);
  }

  #answered(ms: number): void {
    this.#latency.record(ms);
    this.#winLatency.record(ms);
    if (ms > this.#c.sloMs) this.#aboveSlo++;
  }

  #onArrival(now: number): void {
    this.#push(this.#arrivals.next(), Ev.Arrival);
    const shape = this.#mix.next();
    this.#requests++;
    this.#winArrivals++;
    // limits.maxInFlight: admission answers 503 beyond it; so does a cluster with no endpoint.
    if (this.#routerInFlight >= this.#c.routerMaxInFlight || this.#endpoints.length === 0) {
      this.#shedOne();
      return;
    }
    const request: SimRequest = { arrival: now, promptTokens: shape.promptTokens, outputTokens: shape.outputTokens, enqueued: 0, firstToken: 0, slot: undefined };
    const first = this.#endpoints[0] as Pod;
    if (first.replica instanceof LlmReplica && !first.replica.fits(shape.promptTokens, shape.outputTokens)) {
      // The engine refuses a sequence that could never fit its KV cache.
      this.#shedOne();
      return;
    }
    this.#routerInFlight++;
    const pod = this.#pick();
    if (pod === undefined) this.#routerPending.push(request);
    else this.#dispatch(request, pod, now);
  }

  /** The grace period is over: the kubelet kills the container; what it still held is lost (the router answers 502/503). */
  #kill(pod: Pod): void {
    if (pod.phase !== 'draining') return;
    const lost = pod.replica.abort();
    for (const r of lost) {
      this.#release(pod);
      this.#routerInFlight--;
      // Already counted above the SLO (a slow first token): count the request once, as killed.
      if (r.firstToken > 0 && (r.firstToken - r.arrival) * 1000 > this.#c.sloMs) this.#aboveSlo--;
    }
    this.#killed += lost.length;
    this.#winKilled += lost.length;
    this.#setPhase(pod, 'gone');
    if (this.#routerPending.length > 0) this.#drainRouterPending(this.#now);
  }

  #shedOne(): void {
    this.#shed++;
    this.#winShed++;
  }

  #pick(): Pod | undefined {
    const max = this.#c.maxInFlightPerEndpoint;
    // circuitBreaker.maxInFlightPerEndpoint: endpoints at the limit are filtered out before the pick.
    const candidates = this.#atLimit === 0 ? this.#endpoints : this.#endpoints.filter((p) => p.inFlight < max);
    return this.#picker.pick(candidates, undefined) as Pod | undefined;
  }

  #dispatch(request: SimRequest, pod: Pod, now: number): void {
    request.slot = pod;
    pod.inFlight++;
    if (pod.inFlight === this.#c.maxInFlightPerEndpoint) this.#atLimit++;
    pod.replica.enqueue(request, now);
  }

  #release(pod: Pod): void {
    if (pod.inFlight === this.#c.maxInFlightPerEndpoint && pod.phase !== 'draining') this.#atLimit--;
    pod.inFlight--;
  }

  #drainRouterPending(now: number): void {
    while (this.#routerPending.length > 0) {
      const pod = this.#pick();
      if (pod === undefined) return;
      this.#dispatch(this.#routerPending.shift() as SimRequest, pod, now);
    }
  }

  #createPod(now: number, schedulePhases: boolean): Pod {
    const c = this.#c;
    const replica: Replica = c.profile.kind === 'vision' ? new VisionReplica(c.profile, this, { dynamicBatching: c.dynamicBatching, maxQueueDelayMs: c.maxQueueDelayMs }) : new LlmReplica(c.profile, this);
    this.#countPods(now);
    const pod = new Pod(this.#nextPodId++, now, replica);
    this.#pods.push(pod);
    this.#podOf.set(replica, pod);
    if (schedulePhases) {
      this.#push(now + c.pendingS, Ev.PodLoading, pod);
      this.#push(now + c.pendingS + c.loadingS, Ev.PodReady, pod);
    }
    return pod;
  }

  #podReady(pod: Pod): void {
    this.#setPhase(pod, 'ready');
    if (this.#routerPending.length > 0) this.#drainRouterPending(this.#now);
  }

  #setPhase(pod: Pod, phase: PodPhase): void {
    this.#countPods(this.#now);
    const wasEndpoint = pod.phase === 'ready';
    pod.phase = phase;
    if (phase === 'ready' || wasEndpoint) this.#endpoints = this.#pods.filter((p) => p.phase === 'ready');
    if (wasEndpoint && phase === 'draining' && pod.inFlight >= this.#c.maxInFlightPerEndpoint) this.#atLimit--;
    if (phase === 'draining') {
      if (pod.replica.outstanding === 0) pod.phase = 'gone';
      else this.#push(this.#now + this.#c.terminationGraceS, Ev.PodKill, pod);
    }
    if (pod.phase === 'gone') {
      this.#podOf.delete(pod.replica);
      if (pod.replica instanceof LlmReplica) this.#preemptionsGone += pod.replica.preemptions;
      const i = this.#pods.indexOf(pod);
      if (i >= 0) this.#pods.splice(i, 1);
    }
  }

  /** Integrates pod counts up to `now` (GPU-seconds, ready-seconds). */
  #countPods(now: number): void {
    const dt = now - this.#countsSince;
    if (dt > 0) {
      this.#gpuSeconds += this.#pods.length * dt;
      this.#readySeconds += this.#endpoints.length * dt;
      this.#countsSince = now;
    }
    this.#replicasMax = Math.max(this.#replicasMax, this.#pods.length);
  }

  /** Prometheus scrapes every pod whose metrics endpoints are up; a sample is what the adapter serves until the next. */
  #scrape(now: number): void {
    const window = Math.min(this.#c.utilWindowS, this.#c.scrapeIntervalS);
    // The router reports only the endpoints its cluster holds (Ready pods, as DNS discovery sees them).
    let clusterInFlight = 0;
    for (const pod of this.#endpoints) clusterInFlight += pod.inFlight;
    this.#externalSample = { [METRIC.routerClusterInFlight]: clusterInFlight };
    for (const pod of this.#pods) {
      if (pod.phase === 'pending') continue;
      const util = (100 * (pod.replica.busySeconds(now) - pod.busyMark)) / window;
      if (pod.phase === 'loading') {
        pod.sample = { [METRIC.gpuUtil]: util };
        continue;
      }
      const queue = pod.replica.queued;
      pod.sample = {
        [METRIC.gpuUtil]: util,
        [pod.replica.kind === 'vision' ? METRIC.tritonQueue : METRIC.vllmWaiting]: queue,
      };
    }
  }

  #sync(now: number): void {
    const hpa = this.#hpa as Hpa;
    // Pods being deleted are ignored by the controller (and no longer count in spec.replicas).
    const live = this.#pods.filter((p) => p.phase !== 'draining');
    const pods: PodObservation[] = live.map((p) => ({ phase: p.phase === 'pending' ? 'Pending' : 'Running', ready: p.phase === 'ready', values: p.sample ?? {} }));
    const decision = hpa.sync({ now, currentReplicas: live.length, pods, objectValues: this.#externalSample });
    this.#lastDecision = decision;
    this.#winDecision = decision;
    const delta = decision.desiredReplicas - live.length;
    if (delta > 0) {
      this.#scaleUps++;
      for (let i = 0; i < delta; i++) this.#createPod(now, true);
    } else if (delta < 0) {
      this.#scaleDowns++;
      // ReplicaSet deletion order: not-yet-scheduled/pending first, then not ready, then the most
      // recently ready (controller.ActivePods ranking, simplified to phase then newest first).
      const rank: Record<PodPhase, number> = { pending: 0, loading: 1, ready: 2, draining: 3, gone: 4 };
      const victims = [...live].sort((a, b) => rank[a.phase] - rank[b.phase] || b.createdAt - a.createdAt || b.id - a.id).slice(0, -delta);
      for (const v of victims) this.#setPhase(v, 'draining');
    }
  }

  #closeWindow(now: number): void {
    const c = this.#c;
    const start = this.#timeline.length * c.windowS;
    const decision = this.#winDecision ?? this.#lastDecision;
    const hpaMetrics: Record<string, number | null> = {};
    for (const p of decision?.proposals ?? []) hpaMetrics[p.name] = p.current === undefined ? null : round(p.current);
    let starting = 0;
    let draining = 0;
    for (const p of this.#pods) {
      if (p.phase === 'pending' || p.phase === 'loading') starting++;
      else if (p.phase === 'draining') draining++;
    }
    this.#timeline.push({
      t: start,
      offeredRps: round(meanRate(c.trace, start, Math.min(now, start + c.windowS))),
      arrivals: this.#winArrivals,
      completed: this.#winCompleted,
      shed: this.#winShed,
      killed: this.#winKilled,
      replicasReady: this.#endpoints.length,
      replicasStarting: starting,
      replicasDraining: draining,
      hpaDesired: decision?.desiredReplicas,
      hpaMetrics,
      p50Ms: round(this.#winLatency.quantile(0.5)),
      p99Ms: round(this.#winLatency.quantile(0.99)),
    });
    this.#winLatency = new LatencyHistogram();
    this.#winArrivals = 0;
    this.#winCompleted = 0;
    this.#winShed = 0;
    this.#winKilled = 0;
    this.#winDecision = undefined;
  }

  #totals(): SimulationTotals {
    const c = this.#c;
    const inFlightAtEnd = this.#routerInFlight;
    const violations = this.#aboveSlo + this.#shed + this.#killed;
    const llm = c.profile.kind === 'llm';
    let preemptions = this.#preemptionsGone;
    if (llm) for (const p of this.#pods) preemptions += (p.replica as LlmReplica).preemptions;
    return {
      requests: this.#requests,
      completed: this.#completed,
      shed: this.#shed,
      killed: this.#killed,
      inFlightAtEnd,
      sloMs: c.sloMs,
      sloViolations: violations,
      sloViolationRate: round(this.#requests === 0 ? 0 : violations / this.#requests, 6),
      latency: latencyStats(this.#latency),
      ...(llm ? { e2e: latencyStats(this.#e2e), itl: latencyStats(this.#itl), preemptions } : {}),
      gpuHours: round(this.#gpuSeconds / 3600, 4),
      replicasMax: this.#replicasMax,
      replicasMeanReady: round(this.#readySeconds / Math.max(1e-9, this.#end), 3),
      scaleUps: this.#scaleUps,
      scaleDowns: this.#scaleDowns,
    };
  }
}

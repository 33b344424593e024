// The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) as a pure state machine: one `sync` per
// controller period takes what the metrics API would return and gives the replica count the
// controller would write. It follows the documented algorithm
// (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#algorithm-details)
// and its implementation in kubernetes/kubernetes pkg/controller/podautoscaler:
//   replica_calculator.go  GetMetricReplicas/calcPlainMetricReplicas (Pods, Resource),
//                          GetObjectMetricReplicas, GetExternalMetricReplicas, groupPods;
//   horizontal.go          computeReplicasForMetrics (largest proposal; invalid metrics),
//                          stabilizeRecommendationWithBehaviors, convertDesiredReplicasWithBehaviorRate,
//                          calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors;
//   apis/autoscaling/v2/defaults.go  the default behavior.
// Simplified: Resource metrics take the per-pod value already as % of the request, without the
// CPU-only start-up readiness rules (the simulator scales on no Resource metric); a behaviour given
// as `behavior` is used for the no-behavior case too (the older normalizeDesiredReplicas path gives
// the same limits: max(2×current, 4) up, the 300 s down-window).

export type MetricTarget =
  | { readonly type: 'AverageValue'; readonly averageValue: number }
  | { readonly type: 'Value'; readonly value: number }
  | { readonly type: 'Utilization'; readonly averageUtilization: number };

export interface MetricSpec {
  /** Pods/Resource: one value per pod; Object/External: one value for the target. */
  readonly type: 'Pods' | 'Resource' | 'Object' | 'External';
  readonly name: string;
  readonly target: MetricTarget;
}

export interface ScalingPolicy {
  readonly type: 'Pods' | 'Percent';
  readonly value: number;
  readonly periodSeconds: number;
}

export interface ScalingRules {
  readonly stabilizationWindowSeconds?: number;
  readonly selectPolicy?: 'Max' | 'Min' | 'Disabled';
  readonly policies?: readonly ScalingPolicy[];
  /** HPAConfigurableTolerance (beta); absent = the controller's --horizontal-pod-autoscaler-tolerance. */
  readonly tolerance?: number;
}

export interface HpaSpec {
  readonly name: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly metrics: readonly MetricSpec[];
  readonly behavior?: { readonly scaleUp?: ScalingRules; readonly scaleDown?: ScalingRules };
}

/** One pod of the scale target as the controller lists it (deleted pods are left out: ignored). */
export interface PodObservation {
  /** Pending (scheduled, image pulling, not started) or Running. */
  readonly phase: 'Pending' | 'Running';
  /** The PodReady condition; only Object/External (readyPodCount) and nothing else reads it for non-CPU metrics. */
  readonly ready: boolean;
  /** Per-pod metric values by metric name; absent = the metrics API returned none for this pod. */
  readonly values: Readonly<Record<string, number | undefined>>;
}

export interface HpaObservation {
  /** Seconds. */
  readonly now: number;
  /** The scale subresource's spec.replicas. */
  readonly currentReplicas: number;
  readonly pods: readonly PodObservation[];
  /** Object/External metric values by name; absent = unavailable. */
  readonly objectValues?: Readonly<Record<string, number | undefined>>;
}

export interface MetricProposal {
  readonly name: string;
  /** Undefined when the metric could not be computed (no pod reported it). */
  readonly replicas: number | undefined;
  /** The value compared with the target (pod average, or the object value), as the HPA status shows it. */
  readonly current: number | undefined;
  readonly target: number;
}

export interface HpaDecision {
  readonly desiredReplicas: number;
  readonly proposals: readonly MetricProposal[];
  /** The largest metric proposal before stabilisation and rate limits (undefined: no valid metric). */
  readonly recommendation: number | undefined;
  readonly reason: string;
}

export const DEFAULT_TOLERANCE = 0.1;
/** kube-controller-manager --horizontal-pod-autoscaler-downscale-stabilization default. */
export const DEFAULT_DOWNSCALE_STABILIZATION_SECONDS = 300;

export interface ResolvedRules {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: 'Max' | 'Min' | 'Disabled';
  readonly policies: readonly ScalingPolicy[];
  readonly tolerance: number;
}

/** Fills in behaviour defaults exactly as apis/autoscaling/v2/defaults.go does. */
export function resolveBehavior(spec: HpaSpec, tolerance = DEFAULT_TOLERANCE): { scaleUp: ResolvedRules; scaleDown: ResolvedRules } {
  const up = spec.behavior?.scaleUp;
  const down = spec.behavior?.scaleDown;
  return {
    scaleUp: {
      stabilizationWindowSeconds: up?.stabilizationWindowSeconds ?? 0,
      selectPolicy: up?.selectPolicy ?? 'Max',
      policies:
        up?.policies && up.policies.length > 0
          ? up.policies
          : [
              { type: 'Pods', value: 4, periodSeconds: 15 },
              { type: 'Percent', value: 100, periodSeconds: 15 },
            ],
      tolerance: up?.tolerance ?? tolerance,
    },
    scaleDown: {
      stabilizationWindowSeconds: down?.stabilizationWindowSeconds ?? DEFAULT_DOWNSCALE_STABILIZATION_SECONDS,
      selectPolicy: down?.selectPolicy ?? 'Max',
      policies: down?.policies && down.policies.length > 0 ? down.policies : [{ type: 'Percent', value: 100, periodSeconds: 15 }],
      tolerance: down?.tolerance ?? tolerance,
    },
  };
}

function targetValue(t: MetricTarget): number {
  return t.type === 'AverageValue' ? t.averageValue : t.type === 'Value' ? t.value : t.averageUtilization;
}

interface Tolerances {
  readonly up: number;
  readonly down: number;
}

function withinTolerance(ratio: number, tol: Tolerances): boolean {
  // Kubernetes ≥1.33 picks the scale-up tolerance above 1 and the scale-down one below it.
  return ratio > 1 ? ratio - 1 <= tol.up : 1 - ratio <= tol.down;
}

/**
 * Pods and Resource metrics: replica_calculator.go calcPlainMetricReplicas. Pending pods are
 * "unready" and left out; Running pods without a value are "missing". Missing pods count as 0 when
 * scaling up and as the target when scaling down; unready pods count as 0 when scaling up; if that
 * flips the direction or lands within tolerance, nothing changes.
 */
export function podsMetricReplicas(
  currentReplicas: number,
  pods: readonly PodObservation[],
  name: string,
  target: number,
  tol: Tolerances = { up: DEFAULT_TOLERANCE, down: DEFAULT_TOLERANCE },
): { replicas: number | undefined; current: number | undefined } {
  const values: number[] = [];
  let unready = 0;
  let missing = 0;
  for (const pod of pods) {
    if (pod.phase === 'Pending') {
      unready++;
      continue;
    }
    const v = pod.values[name];
    if (v === undefined) missing++;
    else values.push(v);
  }
  if (values.length === 0) return { replicas: undefined, current: undefined };
  const readyPodCount = values.length;
  const sum = values.reduce((a, b) => a + b, 0);
  const current = sum / readyPodCount;
  const usageRatio = current / target;
  const rebalanceIgnored = unready > 0 && usageRatio > 1;
  if (!rebalanceIgnored && missing === 0) {
    if (withinTolerance(usageRatio, tol)) return { replicas: currentReplicas, current };
    return { replicas: Math.ceil(usageRatio * readyPodCount), current };
  }
  let newSum = sum;
  let count = readyPodCount;
  if (missing > 0) {
    newSum += usageRatio < 1 ? missing * target : 0;
    count += missing;
  }
  if (rebalanceIgnored) count += unready;
  const newUsageRatio = newSum / count / target;
  if (withinTolerance(newUsageRatio, tol) || (usageRatio < 1 && newUsageRatio > 1) || (usageRatio > 1 && newUsageRatio < 1)) {
    return { replicas: currentReplicas, current };
  }
  const newReplicas = Math.ceil(newUsageRatio * count);
  if ((newUsageRatio < 1 && newReplicas > currentReplicas) || (newUsageRatio > 1 && newReplicas < currentReplicas)) {
    return { replicas: currentReplicas, current };
  }
  return { replicas: newReplicas, current };
}

/** Object/External metrics: GetObjectMetricReplicas / GetExternalMetricReplicas (and their per-pod AverageValue forms). */
export function objectMetricReplicas(
  currentReplicas: number,
  readyPodCount: number,
  value: number,
  target: MetricTarget,
  tol: Tolerances = { up: DEFAULT_TOLERANCE, down: DEFAULT_TOLERANCE },
): number {
  if (target.type === 'AverageValue') {
    const usageRatio = value / (target.averageValue * currentReplicas);
    if (currentReplicas > 0 && withinTolerance(usageRatio, tol)) return currentReplicas;
    return Math.ceil(value / target.averageValue);
  }
  const usageRatio = value / targetValue(target);
  if (currentReplicas === 0) return Math.ceil(usageRatio);
  if (withinTolerance(usageRatio, tol)) return currentReplicas;
  return Math.ceil(usageRatio * readyPodCount);
}

interface ScaleEvent {
  readonly time: number;
  readonly change: number;
}

function changeInPeriod(events: readonly ScaleEvent[], now: number, periodSeconds: number): number {
  let sum = 0;
  for (const e of events) if (e.time > now - periodSeconds) sum += e.change;
  return sum;
}

/** calculateScaleUpLimitWithScalingRules: the most replicas the policies allow now. */
export function scaleUpLimit(currentReplicas: number, up: readonly ScaleEvent[], down: readonly ScaleEvent[], rules: ResolvedRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (const p of rules.policies) {
    const periodStart = currentReplicas - changeInPeriod(up, now, p.periodSeconds) + changeInPeriod(down, now, p.periodSeconds);
    // Percent rounds up, or a small fleet could never grow.
    const proposed = p.type === 'Pods' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors: the fewest replicas the policies allow now. */
export function scaleDownLimit(currentReplicas: number, up: readonly ScaleEvent[], down: readonly ScaleEvent[], rules: ResolvedRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  for (const p of rules.policies) {
    const periodStart = currentReplicas - changeInPeriod(up, now, p.periodSeconds) + changeInPeriod(down, now, p.periodSeconds);
    // Percent truncates (int32 conversion in Go).
    const proposed = p.type === 'Pods' ? periodStart - p.value : Math.trunc(periodStart * (1 - p.value / 100));
    result = pickMin ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** One HPA object and the controller's memory of it (recommendations, scale events). */
export class Hpa {
  readonly spec: HpaSpec;
  readonly behavior: { scaleUp: ResolvedRules; scaleDown: ResolvedRules };
  readonly #recommendations: { time: number; replicas: number }[] = [];
  readonly #upEvents: ScaleEvent[] = [];
  readonly #downEvents: ScaleEvent[] = [];
  #initialized = false;

  constructor(spec: HpaSpec, options: { tolerance?: number } = {}) {
    if (!(spec.minReplicas >= 0 && spec.maxReplicas >= Math.max(1, spec.minReplicas))) {
      throw new RangeError(`HPA ${spec.name}: need 0 ≤ minReplicas ≤ maxReplicas, maxReplicas ≥ 1 (got ${spec.minReplicas}..${spec.maxReplicas})`);
    }
    if (spec.metrics.length === 0) throw new RangeError(`HPA ${spec.name}: no metrics`);
    this.spec = spec;
    this.behavior = resolveBehavior(spec, options.tolerance);
  }

  /** One controller sync (reconcileAutoscaler). Returns the replica count to write to the scale target. */
  sync(obs: HpaObservation): HpaDecision {
    const { minReplicas, maxReplicas } = this.spec;
    const current = obs.currentReplicas;
    let desired: number;
    let reason: string;
    let proposals: MetricProposal[] = [];
    let recommendation: number | undefined;
    if (current === 0 && minReplicas !== 0) {
      return { desiredReplicas: 0, proposals, recommendation, reason: 'scaling disabled (replicas 0)' };
    } else if (current > maxReplicas) {
      desired = maxReplicas;
      reason = 'current above maxReplicas';
    } else if (current < minReplicas) {
      desired = minReplicas;
      reason = 'current below minReplicas';
    } else {
      proposals = this.#proposals(obs);
      let invalid = 0;
      let best = 0;
      for (const p of proposals) {
        if (p.replicas === undefined) invalid++;
        else best = Math.max(best, p.replicas);
      }
      // computeReplicasForMetrics: all invalid, or some invalid while the rest would scale down → no change.
      if (invalid >= proposals.length || (invalid > 0 && best < current)) {
        return { desiredReplicas: current, proposals, recommendation, reason: 'invalid metrics: no change' };
      }
      recommendation = best;
      // maybeInitScaleDownStabilizationWindow: a new HPA remembers the current count as a
      // recommendation, so it cannot scale down before one window has passed.
      if (!this.#initialized) this.#recommendations.push({ time: obs.now, replicas: current });
      this.#initialized = true;
      const stabilized = this.#stabilize(obs.now, current, best);
      desired = this.#rateLimit(obs.now, current, stabilized);
      reason = desired === current ? 'no change' : desired > current ? 'scale up' : 'scale down';
    }
    if (desired > current) this.#upEvents.push({ time: obs.now, change: desired - current });
    else if (desired < current) this.#downEvents.push({ time: obs.now, change: current - desired });
    this.#prune(obs.now);
    return { desiredReplicas: desired, proposals, recommendation, reason };
  }

  #proposals(obs: HpaObservation): MetricProposal[] {
    const up = this.behavior.scaleUp.tolerance;
    const down = this.behavior.scaleDown.tolerance;
    const tol = { up, down };
    const readyPods = obs.pods.filter((p) => p.phase === 'Running' && p.ready).length;
    return this.spec.metrics.map((m) => {
      const target = targetValue(m.target);
      if (m.type === 'Pods' || m.type === 'Resource') {
        const r = podsMetricReplicas(obs.currentReplicas, obs.pods, m.name, target, tol);
        return { name: m.name, replicas: r.replicas, current: r.current, target };
      }
      const value = obs.objectValues?.[m.name];
      if (value === undefined) return { name: m.name, replicas: undefined, current: undefined, target };
      const replicas = objectMetricReplicas(obs.currentReplicas, readyPods, value, m.target, tol);
      const current = m.target.type === 'AverageValue' && obs.currentReplicas > 0 ? value / obs.currentReplicas : value;
      return { name: m.name, replicas, current, target };
    });
  }

  /** stabilizeRecommendationWithBehaviors: up = the lowest recommendation of its window, down = the highest of its window. */
  #stabilize(now: number, current: number, recommended: number): number {
    const upCutoff = now - this.behavior.scaleUp.stabilizationWindowSeconds;
    const downCutoff = now - this.behavior.scaleDown.stabilizationWindowSeconds;
    let upRec = recommended;
    let downRec = recommended;
    for (const r of this.#recommendations) {
      if (r.time > upCutoff) upRec = Math.min(upRec, r.replicas);
      if (r.time > downCutoff) downRec = Math.max(downRec, r.replicas);
    }
    let result = current;
    if (result < upRec) result = upRec;
    if (result > downRec) result = downRec;
    this.#recommendations.push({ time: now, replicas: recommended });
    return result;
  }

  /** convertDesiredReplicasWithBehaviorRate: policies, then min/max. */
  #rateLimit(now: number, current: number, desired: number): number {
    const { minReplicas, maxReplicas } = this.spec;
    if (desired > current) {
      const limit = Math.max(current, scaleUpLimit(current, this.#upEvents, this.#downEvents, this.behavior.scaleUp, now));
      return Math.min(desired, Math.min(maxReplicas, limit));
    }
    if (desired < current) {
      const limit = Math.min(current, scaleDownLimit(current, this.#upEvents, this.#downEvents, this.behavior.scaleDown, now));
      return Math.max(desired, Math.max(minReplicas, limit));
    }
    return desired;
  }

  /** Forget what no window or policy period can still see. */
  #prune(now: number): void {
    const horizon =
      Math.max(
        this.behavior.scaleUp.stabilizationWindowSeconds,
        this.behavior.scaleDown.stabilizationWindowSeconds,
        ...this.behavior.scaleUp.policies.map((p) => p.periodSeconds),
        ...this.behavior.scaleDown.policies.map((p) => p.periodSeconds),
      ) + 1;
    for (const list of [this.#recommendations, this.#upEvents, this.#downEvents] as { time: number }[][]) {
      let drop = 0;
      while (drop < list.length && (list[drop] as { time: number }).time < now - horizon) drop++;
      if (drop > 0) list.splice(0, drop);
    }
  }
}

// The HPA model against the Kubernetes documentation's worked examples
// (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/) and the
// controller's rules (pkg/controller/podautoscaler): ratio, tolerance, missing and unready pods,
// several metrics, stabilisation windows, rate policies, selectPolicy, min/max, defaults.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hpa, objectMetricReplicas, podsMetricReplicas, resolveBehavior, type HpaSpec, type PodObservation } from '../../../loadtests/simulator/hpa.js';

const M = 'metric';

function pods(...values: (number | undefined)[]): PodObservation[] {
  return values.map((v) => ({ phase: 'Running', ready: true, values: v === undefined ? {} : { [M]: v } }));
}

function pending(n: number): PodObservation[] {
  return Array.from({ length: n }, () => ({ phase: 'Pending' as const, ready: false, values: {} }));
}

function spec(overrides: Partial<HpaSpec> = {}): HpaSpec {
  return { name: 't', minReplicas: 1, maxReplicas: 100, metrics: [{ type: 'Pods', name: M, target: { type: 'AverageValue', averageValue: 100 } }], ...overrides };
}

/** A sync where every one of `current` pods reports `value`. */
function syncAt(hpa: Hpa, now: number, current: number, value: number): number {
  return hpa.sync({ now, currentReplicas: current, pods: pods(...Array<number>(current).fill(value)) }).desiredReplicas;
}

describe('desired replicas = ceil(current × currentValue / desiredValue)', () => {
  it('200m against a 100m target doubles the replicas (the documentation example)', () => {
    assert.equal(podsMetricReplicas(2, pods(0.2, 0.2), M, 0.1).replicas, 4);
  });

  it('50m against 100m halves them', () => {
    assert.equal(podsMetricReplicas(4, pods(0.05, 0.05, 0.05, 0.05), M, 0.1).replicas, 2);
  });

  it('rounds up: 3 pods at 150 % of target want ceil(4.5) = 5', () => {
    assert.equal(podsMetricReplicas(3, pods(150, 150, 150), M, 100).replicas, 5);
  });

  it('uses the average over pods: 3 pods at 50, 100, 300 (avg 150) want 5', () => {
    assert.deepEqual(podsMetricReplicas(3, pods(50, 100, 300), M, 100), { replicas: 5, current: 150 });
  });
});

describe('tolerance 0.1', () => {
  it('a ratio within 10 % of 1.0 keeps the current count', () => {
    assert.equal(podsMetricReplicas(10, pods(...Array<number>(10).fill(109)), M, 100).replicas, 10);
    assert.equal(podsMetricReplicas(10, pods(...Array<number>(10).fill(91)), M, 100).replicas, 10);
  });

  it('just outside it scales', () => {
    assert.equal(podsMetricReplicas(10, pods(...Array<number>(10).fill(111)), M, 100).replicas, 12);
    assert.equal(podsMetricReplicas(10, pods(...Array<number>(10).fill(89)), M, 100).replicas, 9);
  });

  it('a behavior tolerance (HPAConfigurableTolerance) overrides it per direction', () => {
    assert.equal(podsMetricReplicas(10, pods(...Array<number>(10).fill(105)), M, 100, { up: 0.01, down: 0.1 }).replicas, 11);
  });
});

describe('missing metrics and not-yet-ready pods', () => {
  it('scaling down, a pod without a metric counts as at target (100 %), damping the scale-down', () => {
    // Ready pods average 50 (ratio 0.5 → 2 of 4); with the missing pod at 100: (50·3 + 100)/4 = 62.5 → ceil(2.5) = 3.
    assert.equal(podsMetricReplicas(4, pods(50, 50, 50, undefined), M, 100).replicas, 3);
  });

  it('scaling up, a pod without a metric counts as 0', () => {
    // 3 pods at 200 and one missing: naive ceil(2 × 3) = 6; rebalanced (600 + 0)/4 = 150 → ceil(1.5 × 4) = 6.
    assert.equal(podsMetricReplicas(4, pods(200, 200, 200, undefined), M, 100).replicas, 6);
    // 2 at 160, 2 missing: naive ceil(1.6 × 2) = 4; rebalanced 320/4 = 80 < 100: the direction flips → keep 4.
    assert.equal(podsMetricReplicas(4, pods(160, 160, undefined, undefined), M, 100).replicas, 4);
    assert.equal(podsMetricReplicas(3, pods(130, 130, undefined), M, 100).replicas, 3); // 260/3 = 86.7 < 100: direction flips → no change
  });

  it('scaling up, Pending pods count as 0 (not-yet-ready pods damp a scale-up)', () => {
    // 2 running at 200, 2 pending: naive ceil(2 × 2) = 4; rebalanced (400 + 0 + 0)/4 = 100 → within tolerance → keep 4.
    assert.equal(podsMetricReplicas(4, [...pods(200, 200), ...pending(2)], M, 100).replicas, 4);
    // 2 running at 300, 2 pending: 600/4 = 150 → ceil(1.5 × 4) = 6.
    assert.equal(podsMetricReplicas(4, [...pods(300, 300), ...pending(2)], M, 100).replicas, 6);
  });

  it('Pending pods are left out when scaling down', () => {
    assert.equal(podsMetricReplicas(4, [...pods(20, 20), ...pending(2)], M, 100).replicas, 1);
  });

  it('no pod reporting the metric makes it invalid', () => {
    assert.equal(podsMetricReplicas(2, pending(2), M, 100).replicas, undefined);
  });
});

describe('Object and External metrics', () => {
  it('Value: ratio × ready pods', () => {
    assert.equal(objectMetricReplicas(3, 3, 200, { type: 'Value', value: 100 }), 6);
  });

  it('AverageValue: ceil(total / target per pod), tolerance against current × target', () => {
    assert.equal(objectMetricReplicas(2, 2, 1000, { type: 'AverageValue', averageValue: 300 }), 4);
    assert.equal(objectMetricReplicas(3, 3, 950, { type: 'AverageValue', averageValue: 300 }), 3); // 950/900 within 10 %
  });
});

describe('several metrics', () => {
  it('takes the largest proposal', () => {
    const hpa = new Hpa(spec({ metrics: [{ type: 'Pods', name: 'a', target: { type: 'AverageValue', averageValue: 10 } }, { type: 'Pods', name: 'b', target: { type: 'AverageValue', averageValue: 80 } }] }));
    const d = hpa.sync({ now: 0, currentReplicas: 2, pods: [{ phase: 'Running', ready: true, values: { a: 5, b: 160 } }, { phase: 'Running', ready: true, values: { a: 5, b: 160 } }] });
    assert.deepEqual(d.proposals.map((p) => p.replicas), [1, 4]);
    assert.equal(d.desiredReplicas, 4);
  });

  it('does not scale down while one metric is unavailable', () => {
    const hpa = new Hpa(spec({ metrics: [{ type: 'Pods', name: 'a', target: { type: 'AverageValue', averageValue: 10 } }, { type: 'Pods', name: 'b', target: { type: 'AverageValue', averageValue: 80 } }], behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }));
    const d = hpa.sync({ now: 0, currentReplicas: 4, pods: pods(1, 1, 1, 1).map((p) => ({ ...p, values: { a: 1 } })) });
    assert.equal(d.desiredReplicas, 4);
  });
});

describe('stabilisation windows', () => {
  it('scale-down uses the highest recommendation of the last 300 s (default)', () => {
    const hpa = new Hpa(spec());
    assert.equal(syncAt(hpa, 0, 10, 100), 10); // recommends 10
    assert.equal(syncAt(hpa, 15, 10, 50), 10); // recommends 5, but 10 was recommended within 300 s
    assert.equal(syncAt(hpa, 150, 10, 60), 10);
    assert.equal(syncAt(hpa, 301, 10, 50), 6); // the 10 (t=0) left the window; highest left is 6 (t=150)
    assert.equal(syncAt(hpa, 451, 6, 50), 5); // recommends 3, but t=301 recommended 5 (10 pods at 50 %)
    assert.equal(syncAt(hpa, 602, 5, 50), 3); // t=301 left the window: max(3 at t=451, ceil(2.5) now) = 3
  });

  it('scale-up uses the lowest recommendation of its window', () => {
    const hpa = new Hpa(spec({ behavior: { scaleUp: { stabilizationWindowSeconds: 60 } } }));
    assert.equal(syncAt(hpa, 0, 2, 100), 2);
    assert.equal(syncAt(hpa, 15, 2, 300), 2); // wants 6, but 2 was recommended 15 s ago
    assert.equal(syncAt(hpa, 30, 2, 300), 2);
    assert.equal(syncAt(hpa, 61, 2, 300), 6); // only recommendations of 6 left in the window
  });

  it('a new HPA counts the current replicas as a recommendation: no scale-down in its first window', () => {
    const hpa = new Hpa(spec());
    assert.equal(syncAt(hpa, 0, 5, 10), 5);
    assert.equal(syncAt(hpa, 299, 5, 10), 5);
    assert.equal(syncAt(hpa, 300, 5, 10), 1);
  });

  it('no window: scales down at once', () => {
    const hpa = new Hpa(spec({ behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }));
    assert.equal(syncAt(hpa, 0, 10, 100), 10);
    assert.equal(syncAt(hpa, 15, 10, 20), 2);
  });
});

describe('rate policies', () => {
  it('default scale-up: max(100 %, 4 pods) per 15 s', () => {
    assert.equal(syncAt(new Hpa(spec()), 0, 1, 10_000), 5); // 1 + 4 beats 1 × 2
    assert.equal(syncAt(new Hpa(spec()), 0, 10, 10_000), 20); // 10 × 2 beats 10 + 4
  });

  it('default scale-down: 100 % per 15 s (all the way to the recommendation, after the window)', () => {
    const hpa = new Hpa(spec({ behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }));
    assert.equal(syncAt(hpa, 0, 20, 5), 1);
  });

  it('Pods 4 per 60 s: a second scale-up inside the period is held to what the period has left', () => {
    const hpa = new Hpa(spec({ behavior: { scaleUp: { policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }] } } }));
    assert.equal(syncAt(hpa, 0, 2, 1000), 6);
    assert.equal(syncAt(hpa, 15, 6, 1000), 6); // the period started at 2 replicas: 2 + 4 = 6
    assert.equal(syncAt(hpa, 61, 6, 1000), 10);
  });

  it('Percent 100 % per 15 s doubles; Pods 4 per 15 s adds four', () => {
    const pct = new Hpa(spec({ behavior: { scaleUp: { policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } } }));
    assert.equal(syncAt(pct, 0, 3, 10_000), 6);
    const pods4 = new Hpa(spec({ behavior: { scaleUp: { policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] } } }));
    assert.equal(syncAt(pods4, 0, 3, 10_000), 7);
  });

  it('selectPolicy: Max takes the biggest change, Min the smallest, Disabled none (the docs scale-down example)', () => {
    // policies: Pods 4 per 60 s, Percent 10 per 60 s; 80 replicas want 10.
    const policies = [
      { type: 'Pods' as const, value: 4, periodSeconds: 60 },
      { type: 'Percent' as const, value: 10, periodSeconds: 60 },
    ];
    const down = (selectPolicy: 'Max' | 'Min' | 'Disabled'): number =>
      syncAt(new Hpa(spec({ behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies, selectPolicy } } })), 0, 80, 12.5);
    assert.equal(down('Max'), 72); // 10 % of 80 = 8 pods beats 4
    assert.equal(down('Min'), 76);
    assert.equal(down('Disabled'), 80);
    // Below 40 replicas the Pods policy is the bigger change (the docs: "the first policy is used").
    assert.equal(syncAt(new Hpa(spec({ behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies } } })), 0, 30, 10), 26);
  });

  it('Percent scale-down truncates, scale-up rounds up', () => {
    const hpa = new Hpa(spec({ behavior: { scaleUp: { policies: [{ type: 'Percent', value: 50, periodSeconds: 15 }] }, scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 50, periodSeconds: 15 }] } } }));
    assert.equal(syncAt(hpa, 0, 3, 10_000), 5); // ceil(4.5)
    assert.equal(syncAt(new Hpa(spec({ behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 50, periodSeconds: 15 }] } } })), 0, 3, 1), 1); // trunc(1.5) = 1
  });
});

describe('min and max', () => {
  it('clamps the recommendation', () => {
    const hpa = new Hpa(spec({ minReplicas: 2, maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }));
    assert.equal(syncAt(hpa, 0, 4, 1000), 5);
    assert.equal(syncAt(new Hpa(spec({ minReplicas: 2, maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } })), 0, 4, 1), 2);
  });

  it('brings a count outside the range back into it, metrics aside', () => {
    assert.equal(syncAt(new Hpa(spec({ minReplicas: 2, maxReplicas: 5 })), 0, 9, 100), 5);
    assert.equal(syncAt(new Hpa(spec({ minReplicas: 3, maxReplicas: 5 })), 0, 1, 100), 3);
  });

  it('does nothing when the target is scaled to 0 by hand', () => {
    assert.equal(syncAt(new Hpa(spec()), 0, 0, 100), 0);
  });
});

describe('default behavior (apis/autoscaling/v2/defaults.go)', () => {
  it('fills in what is absent', () => {
    const b = resolveBehavior(spec());
    assert.deepEqual(b.scaleUp, { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }], tolerance: 0.1 });
    assert.deepEqual(b.scaleDown, { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], tolerance: 0.1 });
  });

  it('keeps what is given and defaults the rest of that direction', () => {
    const b = resolveBehavior(spec({ behavior: { scaleDown: { stabilizationWindowSeconds: 900 } } }));
    assert.equal(b.scaleDown.stabilizationWindowSeconds, 900);
    assert.deepEqual(b.scaleDown.policies, [{ type: 'Percent', value: 100, periodSeconds: 15 }]);
    assert.equal(b.scaleUp.stabilizationWindowSeconds, 0);
  });
});

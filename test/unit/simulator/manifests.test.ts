// The simulator scales with the repo's own HPAs: values read from
// deploy/k8s/components/autoscaling-hpa/hpa.yaml, overlay patches applied as kustomize would.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../../loadtests/simulator/main.js';
import { HPA_MANIFEST, parseQuantity, readHpaSpecs } from '../../../loadtests/simulator/read-hpa-specs.js';

describe('readHpaSpecs', () => {
  it('reads every HPA of the component with the manifest\'s values', () => {
    const specs = readHpaSpecs(REPO_ROOT);
    const raw = parseAllDocuments(readFileSync(join(REPO_ROOT, HPA_MANIFEST), 'utf8')).map((d) => d.toJS() as { metadata: { name: string }; spec: { minReplicas: number; maxReplicas: number; metrics: unknown[] } });
    assert.deepEqual([...specs.keys()].sort(), raw.map((d) => d.metadata.name).sort());
    for (const d of raw) {
      const s = specs.get(d.metadata.name);
      assert.equal(s?.minReplicas, d.spec.minReplicas);
      assert.equal(s?.maxReplicas, d.spec.maxReplicas);
      assert.equal(s?.metrics.length, d.spec.metrics.length);
    }
    assert.deepEqual(specs.get('triton'), {
      name: 'triton',
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [
        { type: 'External', name: 'switchyard_cluster_requests_in_flight', target: { type: 'AverageValue', averageValue: 6 } },
        { type: 'Pods', name: 'nv_inference_pending_request_count', target: { type: 'AverageValue', averageValue: 10 } },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [{ type: 'Percent', value: 100, periodSeconds: 60 }, { type: 'Pods', value: 2, periodSeconds: 60 }],
        },
        scaleDown: { stabilizationWindowSeconds: 600, policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] },
      },
    });
    assert.deepEqual(specs.get('vllm')?.metrics, [
      { type: 'External', name: 'switchyard_cluster_requests_in_flight', target: { type: 'AverageValue', averageValue: 8 } },
      { type: 'Pods', name: 'vllm_num_requests_waiting', target: { type: 'AverageValue', averageValue: 5 } },
    ]);
    assert.deepEqual(specs.get('switchyard')?.metrics[1], { type: 'Resource', name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } });
  });

  it('applies an overlay\'s HPA patches to the HPAs its target names, and only those', () => {
    const a100 = readHpaSpecs(REPO_ROOT, 'gpu-a100');
    assert.equal(a100.get('triton')?.maxReplicas, 8);
    assert.equal(a100.get('vllm')?.maxReplicas, 8);
    assert.equal(a100.get('switchyard')?.maxReplicas, readHpaSpecs(REPO_ROOT).get('switchyard')?.maxReplicas);
    assert.equal(readHpaSpecs(REPO_ROOT, 'gpu-a10').get('triton')?.maxReplicas, 4);
  });

  it('parses Kubernetes quantities', () => {
    assert.equal(parseQuantity('10', 'x'), 10);
    assert.equal(parseQuantity('200m', 'x'), 0.2);
    assert.equal(parseQuantity('1.5k', 'x'), 1500);
    assert.throws(() => parseQuantity('ten', 'where'), /where: not a quantity/);
  });
});

// deploy/k8s and docker-compose.yml, checked without a cluster or Docker: scripts/check-deploy.ts
// renders every overlay (kubectl kustomize, else kustomize build), validates the objects and the
// policy, and it really catches what it claims to.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  adapterMetrics,
  checkDeploy,
  checkScaledObject,
  checkWorkloadPolicy,
  findRenderer,
  INSTALL_HINT,
  render,
  validateSchema,
} from '../../scripts/check-deploy.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = (env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-deploy.ts'], { cwd: ROOT, encoding: 'utf8', env });

describe('scripts/check-deploy.ts', () => {
  test('passes on the repository (exit code 0), every overlay rendered', () => {
    const r = run();
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    for (const dir of ['overlays/kind', 'overlays/gpu-a10', 'overlays/gpu-a100', 'overlays/gpu-a100-keda', 'gpu-monitoring']) {
      assert.match(r.stdout, new RegExp(`ok {3}deploy/k8s/${dir}:`));
    }
    assert.match(r.stdout, /deploy check: deploy\/k8s and docker-compose.yml OK/);
  });

  test('with kustomize alone (kubectl hidden) it renders with `kustomize build`', () => {
    // PATH without the directories holding kubectl, plus one holding only node.
    const kubectl = findRenderer();
    const path = (process.env.PATH ?? '').split(delimiter).filter((d) => findRenderer({ PATH: d })?.args('x')[0] !== 'kustomize');
    const bin = mkdtempSync(join(tmpdir(), 'node-only-'));
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
      const env = { ...process.env, PATH: [bin, ...path].join(delimiter) };
      if (findRenderer(env) === undefined) {
        // No kustomize binary here (CI machines with kubectl get none): stand one in that speaks
        // kustomize's CLI through kubectl's embedded kustomize, so this path is still exercised.
        assert.ok(kubectl !== undefined && kubectl.args('x')[0] === 'kustomize', 'kubectl or kustomize is on PATH (.ci/run installs kustomize)');
        writeFileSync(join(bin, 'kustomize'), `#!/bin/sh\n[ "$1" = build ] && shift\nexec ${kubectl.command} kustomize "$@"\n`, { mode: 0o755 });
      }
      assert.equal(findRenderer(env)?.args('x')[0], 'build');
      const r = run(env);
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /kustomize build/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  test('without kubectl and kustomize it fails and says how to install kustomize', () => {
    const bin = mkdtempSync(join(tmpdir(), 'no-kustomize-'));
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
      const r = run({ ...process.env, PATH: bin });
      assert.equal(r.status, 1);
      assert.ok(r.stderr.includes(INSTALL_HINT), r.stderr);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  test('the policy catches a writable root, root user, missing probes/resources, and an unpinned GPU workload', () => {
    const renderer = findRenderer();
    assert.ok(renderer, 'kubectl or kustomize is on PATH (.ci/run installs kustomize)');
    const objects = render(renderer, join(ROOT, 'deploy/k8s/overlays/gpu-a10'));
    const router = structuredClone(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'switchyard'));
    assert.deepEqual(checkWorkloadPolicy(router), []);
    const c = router.spec.template.spec.containers[0];
    c.securityContext.readOnlyRootFilesystem = false;
    c.securityContext.runAsUser = 0;
    delete c.readinessProbe;
    delete c.resources.limits.memory;
    const text = checkWorkloadPolicy(router).join('\n');
    assert.match(text, /readOnlyRootFilesystem is not true/);
    assert.match(text, /must run as non-root/);
    assert.match(text, /no readinessProbe/);
    assert.match(text, /resources.limits.memory not set/);

    const triton = structuredClone(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'triton'));
    assert.deepEqual(checkWorkloadPolicy(triton), []);
    triton.spec.template.spec.tolerations = [];
    triton.spec.template.spec.nodeSelector = { 'nvidia.com/gpu.product': 'OVERLAY-SETS-THIS' };
    triton.spec.template.spec.containers[0].startupProbe.failureThreshold = 10;
    delete triton.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'];
    const gpuText = checkWorkloadPolicy(triton).join('\n');
    assert.match(gpuText, /without a nvidia.com\/gpu toleration/);
    assert.match(gpuText, /nvidia.com\/gpu.product is OVERLAY-SETS-THIS/);
    assert.match(gpuText, /startupProbe allows 100 s/);
    assert.match(gpuText, /no nvidia.com\/gpu limit/);

    assert.match(validateSchema({ ...triton, spec: { ...triton.spec, replicas: 'two' } }).join(), /replicas/);
  });

  test('catches a model Triton does not load, a router bound to 127.0.0.1, an HPA metric no adapter rule exposes, a missing compose mount', async () => {
    const renderer = findRenderer();
    assert.ok(renderer, 'kubectl or kustomize is on PATH (.ci/run installs kustomize)');
    const root = mkdtempSync(join(tmpdir(), 'deploy-'));
    try {
      for (const path of ['deploy', 'runtimes/triton', 'router/telemetry/metrics.ts', 'docker-compose.yml']) cpSync(join(ROOT, path), join(root, path), { recursive: true });
      const edit = (path: string, from: string, to: string) => {
        const text = readFileSync(join(root, path), 'utf8');
        assert.ok(text.includes(from), `${path} contains ${from}`);
        writeFileSync(join(root, path), text.replace(from, to));
      };
      edit('deploy/k8s/base/switchyard.yaml', 'upstreamModel: resnet50_trt }', 'upstreamModel: resnet50_onnx }');
      edit('deploy/k8s/overlays/kind/switchyard.yaml', 'http: { host: 0.0.0.0, port: 8000 }', 'http: { host: 127.0.0.1, port: 8000 }');
      edit('deploy/k8s/gpu-monitoring/prometheus-adapter-rules.yaml', 'as: "vllm_num_requests_waiting"', 'as: "vllm_requests_waiting"');
      edit('docker-compose.yml', './runtimes/triton:/models:ro', './runtimes/tritn:/models:ro');

      const { problems } = await checkDeploy(root, renderer);
      const text = problems.join('\n');
      assert.match(text, /gpu-a10: model resnet50 routes to resnet50_onnx on cluster triton, which Deployment\/triton does not load/);
      assert.match(text, /kind: listeners.http.host is 127.0.0.1/);
      assert.match(text, /HorizontalPodAutoscaler\/vllm reads vllm_num_requests_waiting, which no prometheus-adapter rule exposes/);
      assert.match(text, /compose triton: mounted host path .\/runtimes\/tritn does not exist/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('ScaledObjects and adapter rules are checked structurally', () => {
    const objects = [{ kind: 'Deployment', metadata: { name: 'vllm' } }];
    const so = {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'vllm' },
      spec: { scaleTargetRef: { name: 'vllm' }, triggers: [{ type: 'prometheus', metadata: { serverAddress: 'http://p:9090', query: 'sum(vllm:num_requests_waitin)', threshold: 5 } }] },
    };
    const text = checkScaledObject(so, objects, new Set(['vllm:num_requests_waiting'])).join('\n');
    assert.match(text, /unknown metric vllm:num_requests_waitin/);
    assert.match(text, /metadata.threshold must be a string/);
    assert.deepEqual(
      [...adapterMetrics('rules:\n- seriesQuery: \'vllm:num_requests_waiting{pod!=""}\'\n  name: { matches: "x", as: "vllm_waiting" }\n')],
      [['vllm_waiting', 'vllm:num_requests_waiting']],
    );
    const external = 'externalRules:\n- seriesQuery: \'switchyard_endpoint_requests_in_flight{cluster!=""}\'\n  name: { matches: "x", as: "switchyard_cluster_requests_in_flight" }\n';
    assert.deepEqual([...adapterMetrics(external, 'external')], [['switchyard_cluster_requests_in_flight', 'switchyard_endpoint_requests_in_flight']]);
    assert.deepEqual([...adapterMetrics(external)], [], 'externalRules are not custom metrics');
  });
});

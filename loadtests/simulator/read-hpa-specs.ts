// Reads the HPAs the repo ships (deploy/k8s/components/autoscaling-hpa/hpa.yaml) and, for an
// overlay, applies that overlay's kustomize JSON-6902 patches whose target is a
// HorizontalPodAutoscaler — so the simulator scales with exactly the numbers `kubectl apply -k` would.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { HpaSpec, MetricSpec, MetricTarget, ScalingPolicy, ScalingRules } from './hpa.js';

export const HPA_MANIFEST = 'deploy/k8s/components/autoscaling-hpa/hpa.yaml';
export const OVERLAYS = ['gpu-a10', 'gpu-a100'] as const;
export type Overlay = (typeof OVERLAYS)[number];

export class ManifestError extends Error {
  override name = 'ManifestError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Kubernetes quantity → number ("10", "200m", "1.5k"). */
export function parseQuantity(q: unknown, where: string): number {
  if (typeof q === 'number') return q;
  const m = typeof q === 'string' ? /^([0-9.]+)(m|k|M|G)?$/.exec(q.trim()) : null;
  if (m === null) throw new ManifestError(`${where}: not a quantity: ${JSON.stringify(q)}`);
  const scale = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * scale;
}

/** All HPAs of the component, patched for `overlay` when given, keyed by metadata.name. */
export function readHpaSpecs(repoRoot: string, overlay?: Overlay): Map<string, HpaSpec> {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, HPA_MANIFEST), 'utf8'))
    .map((d) => d.toJS() as Json)
    .filter((d): d is { [key: string]: Json } => typeof d === 'object' && d !== null && !Array.isArray(d) && d['kind'] === 'HorizontalPodAutoscaler');
  if (overlay !== undefined) applyOverlay(repoRoot, overlay, docs);
  const specs = new Map<string, HpaSpec>();
  for (const doc of docs) {
    const spec = toHpaSpec(doc);
    specs.set(spec.name, spec);
  }
  return specs;
}

function applyOverlay(repoRoot: string, overlay: Overlay, docs: { [key: string]: Json }[]): void {
  const file = join(repoRoot, 'deploy/k8s/overlays', overlay, 'kustomization.yaml');
  const kustomization = parse(readFileSync(file, 'utf8')) as { patches?: { target?: { kind?: string; name?: string }; patch?: string }[] };
  for (const p of kustomization.patches ?? []) {
    if (p.target?.kind !== 'HorizontalPodAutoscaler' || typeof p.patch !== 'string') continue;
    // kustomize matches target names as an anchored regular expression.
    const name = new RegExp(`^(?:${p.target.name ?? '.*'})$`);
    const ops = parse(p.patch) as { op: string; path: string; value?: Json }[];
    for (const doc of docs) {
      const metadata = doc['metadata'] as { name?: string } | undefined;
      if (!name.test(metadata?.name ?? '')) continue;
      for (const op of ops) applyOp(doc, op, file);
    }
  }
}

function applyOp(doc: Json, op: { op: string; path: string; value?: Json }, file: string): void {
  const keys = op.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = keys.pop();
  if (last === undefined) throw new ManifestError(`${file}: patch path ${op.path} is empty`);
  let node: Json = doc;
  for (const k of keys) {
    node = (Array.isArray(node) ? node[Number(k)] : typeof node === 'object' && node !== null ? node[k] : undefined) as Json;
    if (node === undefined || node === null || typeof node !== 'object') throw new ManifestError(`${file}: patch path ${op.path} does not exist`);
  }
  const container = node as { [key: string]: Json };
  if (op.op === 'replace' || op.op === 'add') container[last] = op.value ?? null;
  else if (op.op === 'remove') delete container[last];
  else throw new ManifestError(`${file}: unsupported patch op ${op.op}`);
}

function toHpaSpec(doc: { [key: string]: Json }): HpaSpec {
  const name = String((doc['metadata'] as { name?: string } | undefined)?.name ?? '');
  const spec = doc['spec'] as { [key: string]: Json } | undefined;
  if (spec === undefined) throw new ManifestError(`HPA ${name}: no spec`);
  const metrics = ((spec['metrics'] as Json[] | undefined) ?? []).map((m, i) => toMetric(m as { [key: string]: Json }, `${name}.spec.metrics[${i}]`));
  const behavior = spec['behavior'] as { scaleUp?: Json; scaleDown?: Json } | undefined;
  const result: HpaSpec = {
    name,
    minReplicas: Number(spec['minReplicas'] ?? 1),
    maxReplicas: Number(spec['maxReplicas']),
    metrics,
    ...(behavior === undefined
      ? {}
      : {
          behavior: {
            ...(behavior.scaleUp ? { scaleUp: toRules(behavior.scaleUp as { [key: string]: Json }) } : {}),
            ...(behavior.scaleDown ? { scaleDown: toRules(behavior.scaleDown as { [key: string]: Json }) } : {}),
          },
        }),
  };
  return result;
}

function toMetric(m: { [key: string]: Json }, where: string): MetricSpec {
  const type = m['type'];
  if (type !== 'Pods' && type !== 'Resource' && type !== 'Object' && type !== 'External') throw new ManifestError(`${where}: unknown metric type ${String(type)}`);
  const key = type === 'Pods' ? 'pods' : type === 'Resource' ? 'resource' : type === 'Object' ? 'object' : 'external';
  const body = m[key] as { [key: string]: Json } | undefined;
  const name = type === 'Resource' ? String(body?.['name']) : String((body?.['metric'] as { name?: string } | undefined)?.name);
  const t = body?.['target'] as { [key: string]: Json } | undefined;
  let target: MetricTarget;
  if (t?.['type'] === 'AverageValue') target = { type: 'AverageValue', averageValue: parseQuantity(t['averageValue'], `${where}.target.averageValue`) };
  else if (t?.['type'] === 'Value') target = { type: 'Value', value: parseQuantity(t['value'], `${where}.target.value`) };
  else if (t?.['type'] === 'Utilization') target = { type: 'Utilization', averageUtilization: Number(t['averageUtilization']) };
  else throw new ManifestError(`${where}: unknown target ${JSON.stringify(t)}`);
  return { type, name, target };
}

function toRules(r: { [key: string]: Json }): ScalingRules {
  const policies = r['policies'] as { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }[] | undefined;
  return {
    ...(r['stabilizationWindowSeconds'] !== undefined ? { stabilizationWindowSeconds: Number(r['stabilizationWindowSeconds']) } : {}),
    ...(r['selectPolicy'] !== undefined ? { selectPolicy: r['selectPolicy'] as 'Max' | 'Min' | 'Disabled' } : {}),
    ...(policies ? { policies: policies.map((p): ScalingPolicy => ({ type: p.type, value: Number(p.value), periodSeconds: Number(p.periodSeconds) })) } : {}),
    ...(r['tolerance'] !== undefined ? { tolerance: parseQuantity(r['tolerance'], 'tolerance') } : {}),
  };
}

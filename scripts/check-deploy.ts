// CI check for deploy/k8s and docker-compose.yml, without a cluster or a Docker engine
// (`npm run check:deploy`, run by test/integration/deploy-manifests.test.ts):
// - renders every overlay (deploy/k8s/overlays/*) and deploy/k8s/gpu-monitoring with
//   `kubectl kustomize`, else `kustomize build` (whichever is on PATH);
// - validates every rendered object against the Kubernetes schemas of kubernetes-models (types and
//   required fields; it does not catch unknown fields), KEDA ScaledObjects structurally;
// - policy: non-root, read-only root filesystem, no privilege escalation, capabilities dropped,
//   resources, liveness/readiness probes; GPU workloads: nvidia.com/gpu limits, toleration,
//   a pinned GPU product, a startup probe allowing ≥ 15 min of model load. Exceptions must be
//   written down in the pod annotation `switchyard.dev/policy-exception` naming the rule;
// - the router's ConfigMap passes the router's own config schema, its DNS discovery names headless
//   Services that exist, listeners bind 0.0.0.0, it is mounted as a directory, and the grace period
//   covers preStop + drainTimeoutMs;
// - Services target named ports that exist; pods Prometheus scrapes have the port it keeps;
// - HPAs name metrics prometheus-adapter exposes, from metrics that exist;
// - docker-compose.yml: images pinned, host ports unique, mounted host paths exist, GPU services
//   reserve NVIDIA devices.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parseConfigText } from '../router/config/load-config.js';
import { EXTERNAL_METRICS, promqlMetricNames, routerMetricNames } from './check-monitoring.js';

export const INSTALL_HINT =
  'neither kubectl nor kustomize is on PATH: install kustomize with `GOBIN=$HOME/go/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0` and add $HOME/go/bin to PATH (.ci/run does this in CI), or install kubectl';

export const EXCEPTION_ANNOTATION = 'switchyard.dev/policy-exception';
/** Model load may take this long on a GPU node before liveness applies. */
export const GPU_STARTUP_BUDGET_S = 15 * 60;

// A loose shape: the objects are validated by kubernetes-models; this is only for reading them.
type Obj = any;

export interface Renderer {
  command: string;
  args: (dir: string) => string[];
}

function onPath(binary: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/** kubectl kustomize if kubectl is on PATH, else kustomize build, else undefined. */
export function findRenderer(env: NodeJS.ProcessEnv = process.env): Renderer | undefined {
  const kubectl = onPath('kubectl', env);
  if (kubectl !== undefined) return { command: kubectl, args: (dir) => ['kustomize', dir] };
  const kustomize = onPath('kustomize', env);
  if (kustomize !== undefined) return { command: kustomize, args: (dir) => ['build', dir] };
  return undefined;
}

export function render(renderer: Renderer, dir: string): Obj[] {
  const r = spawnSync(renderer.command, renderer.args(dir), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw new Error(`${renderer.command} failed to start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${renderer.command} ${renderer.args(dir).join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  const docs = parseAllDocuments(r.stdout);
  const objects: Obj[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${dir}: YAML error ${doc.errors[0]?.message}`);
    const value = doc.toJS() as Obj;
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

const MODELS: Record<string, new (o: Obj) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/ServiceAccount': ServiceAccount,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

const id = (o: Obj): string => `${o.kind}/${o.metadata?.name}`;

export function validateSchema(o: Obj): string[] {
  const key = `${o.apiVersion}/${o.kind}`;
  if (key === 'keda.sh/v1alpha1/ScaledObject') return [];
  const Model = MODELS[key];
  if (Model === undefined) return [`${id(o)}: no schema for ${key} (add it to scripts/check-deploy.ts)`];
  try {
    new Model(o).validate();
    return [];
  } catch (err) {
    return [`${id(o)}: ${(err as Error).message.split('\n').slice(0, 5).join('; ')}`];
  }
}

function exceptionFor(template: Obj, rule: string): boolean {
  const text = template?.metadata?.annotations?.[EXCEPTION_ANNOTATION];
  return typeof text === 'string' && text.includes(`${rule}:`);
}

function isGpuWorkload(spec: Obj): boolean {
  const containers: Obj[] = spec?.containers ?? [];
  return (
    containers.some((c) => c.resources?.limits?.['nvidia.com/gpu'] !== undefined || c.resources?.requests?.['nvidia.com/gpu'] !== undefined) ||
    spec?.nodeSelector?.['nvidia.com/gpu.product'] !== undefined
  );
}

/** The security, resource and probe policy for one Deployment or DaemonSet. */
export function checkWorkloadPolicy(o: Obj): string[] {
  const problems: string[] = [];
  const template = o.spec?.template;
  const spec = template?.spec;
  const who = id(o);
  if (spec === undefined) return [`${who}: no pod template`];
  const podSc = spec.securityContext ?? {};
  const containers: Obj[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  if (containers.length === 0) problems.push(`${who}: no containers`);
  if (spec.automountServiceAccountToken !== false) problems.push(`${who}: automountServiceAccountToken is not false`);
  const gpu = isGpuWorkload(spec);
  for (const c of containers) {
    const at = `${who} container ${c.name}`;
    const sc = c.securityContext ?? {};
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    const user = sc.runAsUser ?? podSc.runAsUser;
    if ((nonRoot !== true || user === 0) && !exceptionFor(template, 'runAsNonRoot')) problems.push(`${at}: must run as non-root (runAsNonRoot: true, runAsUser ≠ 0)`);
    if (sc.readOnlyRootFilesystem !== true && !exceptionFor(template, 'readOnlyRootFilesystem')) problems.push(`${at}: readOnlyRootFilesystem is not true`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation is not false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${at}: capabilities do not drop ALL`);
    if ((sc.seccompProfile?.type ?? podSc.seccompProfile?.type) !== 'RuntimeDefault') problems.push(`${at}: seccompProfile is not RuntimeDefault`);
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory']) {
        if (c.resources?.[kind]?.[resource] === undefined) problems.push(`${at}: resources.${kind}.${resource} not set`);
      }
    }
    if ((spec.containers ?? []).includes(c)) {
      if (c.livenessProbe === undefined) problems.push(`${at}: no livenessProbe`);
      if (c.readinessProbe === undefined) problems.push(`${at}: no readinessProbe`);
    }
    const image = String(c.image ?? '');
    if ((!/:[^/:]+$/.test(image) && !image.includes('@sha256:')) || image.endsWith(':latest')) problems.push(`${at}: image ${image} is not pinned to a tag`);
  }
  if (gpu) {
    for (const c of spec.containers ?? []) {
      const at = `${who} container ${c.name} (GPU)`;
      if (c.resources?.limits?.['nvidia.com/gpu'] === undefined) problems.push(`${at}: no nvidia.com/gpu limit`);
      const startup = c.startupProbe;
      if (startup === undefined) problems.push(`${at}: no startupProbe (model load)`);
      else {
        const budget = (startup.failureThreshold ?? 3) * (startup.periodSeconds ?? 10) + (startup.initialDelaySeconds ?? 0);
        if (budget < GPU_STARTUP_BUDGET_S) problems.push(`${at}: startupProbe allows ${budget} s, less than ${GPU_STARTUP_BUDGET_S} s for model load`);
      }
    }
    if (!(spec.tolerations ?? []).some((t: Obj) => t.key === 'nvidia.com/gpu')) problems.push(`${who}: GPU workload without a nvidia.com/gpu toleration`);
    const product = spec.nodeSelector?.['nvidia.com/gpu.product'];
    if (typeof product !== 'string' || !/^NVIDIA-[A-Za-z0-9-]+$/.test(product)) problems.push(`${who}: GPU workload's nodeSelector nvidia.com/gpu.product is ${product ?? 'unset'} (an overlay must pin the GPU)`);
  }
  return problems;
}

function containerPortNames(o: Obj): Set<string> {
  return new Set((o.spec?.template?.spec?.containers ?? []).flatMap((c: Obj) => (c.ports ?? []).map((p: Obj) => p.name)));
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (selector === undefined || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** app.kubernetes.io/name → the container port name Prometheus keeps, from prometheus.k8s.yml. */
export function scrapePorts(prometheusK8s: string): Map<string, string> {
  const config = parse(prometheusK8s) as { scrape_configs: Obj[] };
  const ports = new Map<string, string>();
  for (const job of config.scrape_configs ?? []) {
    const label = (job.kubernetes_sd_configs ?? []).flatMap((sd: Obj) => sd.selectors ?? []).map((s: Obj) => s.label as string).find((l: string) => l?.startsWith('app.kubernetes.io/name='));
    const keep = (job.relabel_configs ?? []).find((r: Obj) => r.action === 'keep' && (r.source_labels ?? []).includes('__meta_kubernetes_pod_container_port_name'));
    if (label !== undefined && keep !== undefined) ports.set(label.split('=')[1] as string, keep.regex);
  }
  return ports;
}

/** The metric names prometheus-adapter exposes (custom.metrics `rules`, or external.metrics `externalRules`), and the source series each reads. */
export function adapterMetrics(configYaml: string, api: 'custom' | 'external' = 'custom'): Map<string, string> {
  const config = parse(configYaml) as { rules?: Obj[]; externalRules?: Obj[] };
  const names = new Map<string, string>();
  for (const rule of (api === 'custom' ? config.rules : config.externalRules) ?? []) {
    const source = promqlMetricNames(String(rule.seriesQuery ?? ''))[0] ?? '';
    names.set(rule.name?.as ?? source, source);
  }
  return names;
}

export function checkScaledObject(o: Obj, objects: Obj[], known: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const who = id(o);
  if (o.apiVersion !== 'keda.sh/v1alpha1') problems.push(`${who}: apiVersion ${o.apiVersion} is not keda.sh/v1alpha1`);
  if (typeof o.metadata?.name !== 'string') problems.push(`${who}: no metadata.name`);
  const target = o.spec?.scaleTargetRef?.name;
  const targetKind = o.spec?.scaleTargetRef?.kind ?? 'Deployment';
  if (!objects.some((x) => x.kind === targetKind && x.metadata?.name === target)) problems.push(`${who}: scaleTargetRef ${targetKind}/${target} is not in the render`);
  const min = o.spec?.minReplicaCount ?? 0;
  const max = o.spec?.maxReplicaCount ?? 100;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min > max) problems.push(`${who}: minReplicaCount/maxReplicaCount invalid`);
  const triggers: Obj[] = o.spec?.triggers ?? [];
  if (triggers.length === 0) problems.push(`${who}: no triggers`);
  for (const t of triggers) {
    if (typeof t.type !== 'string') problems.push(`${who}: trigger without type`);
    if (t.metricType !== undefined && !['AverageValue', 'Value', 'Utilization'].includes(t.metricType)) problems.push(`${who}: metricType ${t.metricType}`);
    const m = t.metadata ?? {};
    for (const [k, v] of Object.entries(m)) if (typeof v !== 'string') problems.push(`${who}: trigger metadata.${k} must be a string`);
    if (t.type === 'prometheus') {
      try {
        new URL(m.serverAddress);
      } catch {
        problems.push(`${who}: serverAddress ${m.serverAddress} is not a URL`);
      }
      if (!Number.isFinite(Number(m.threshold)) || m.threshold === '') problems.push(`${who}: threshold ${m.threshold} is not a number`);
      const names = promqlMetricNames(String(m.query ?? ''));
      if (names.length === 0) problems.push(`${who}: query reads no metric`);
      for (const n of names) if (!known.has(n)) problems.push(`${who}: query reads unknown metric ${n}`);
    }
  }
  if (objects.some((x) => x.kind === 'HorizontalPodAutoscaler' && x.spec?.scaleTargetRef?.name === target)) problems.push(`${who}: an HPA also scales ${target} (pick one)`);
  return problems;
}

function checkRouter(objects: Obj[], root: string, where: string): string[] {
  const problems: string[] = [];
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata?.name === 'switchyard');
  if (deployment === undefined) return [`${where}: no Deployment/switchyard`];
  const spec = deployment.spec.template.spec;
  const container = (spec.containers as Obj[]).find((c) => c.name === 'router');
  if (container === undefined) return [`${where}: Deployment/switchyard has no container router`];
  const configPath = (container.env as Obj[] | undefined)?.find((e) => e.name === 'SWITCHYARD_CONFIG')?.value as string | undefined;
  if (configPath === undefined) return [`${where}: router has no SWITCHYARD_CONFIG`];
  const mount = (container.volumeMounts as Obj[] | undefined)?.find((m) => configPath.startsWith(`${m.mountPath}/`));
  if (mount === undefined) return [`${where}: SWITCHYARD_CONFIG ${configPath} is on no volume mount`];
  if (mount.subPath !== undefined) problems.push(`${where}: the config is mounted with subPath (never updated; mount the directory)`);
  const volume = (spec.volumes as Obj[]).find((v) => v.name === mount.name);
  const cmName = volume?.configMap?.name;
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === cmName);
  const key = configPath.slice(mount.mountPath.length + 1);
  const text = cm?.data?.[key];
  if (typeof text !== 'string') return [...problems, `${where}: ConfigMap ${cmName} has no key ${key}`];

  let config: ReturnType<typeof parseConfigText>;
  try {
    config = parseConfigText(text, `${where} ConfigMap/${cmName} ${key}`, {}, root);
  } catch (err) {
    return [...problems, (err as Error).message];
  }
  const portsByName = new Map<string, number>((container.ports as Obj[]).map((p) => [p.name, p.containerPort]));
  for (const [name, listener] of Object.entries(config.listeners) as [string, { host: string; port: number }][]) {
    if (listener.host !== '0.0.0.0' && listener.host !== '::') problems.push(`${where}: listeners.${name}.host is ${listener.host}: unreachable from outside the pod (bind 0.0.0.0)`);
    if (portsByName.get(name) !== listener.port) problems.push(`${where}: listeners.${name}.port ${listener.port} is not the container port named ${name} (${portsByName.get(name)})`);
  }
  for (const [probe, path] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz'], ['startupProbe', undefined]] as const) {
    const p = container[probe];
    if (p === undefined) problems.push(`${where}: router has no ${probe}`);
    else {
      if (p.httpGet?.port !== 'admin' && p.httpGet?.port !== config.listeners.admin.port) problems.push(`${where}: router ${probe} is not on the admin port`);
      if (path !== undefined && p.httpGet?.path !== path) problems.push(`${where}: router ${probe} path ${p.httpGet?.path}, expected ${path}`);
    }
  }
  const sleep = Number((container.lifecycle?.preStop?.exec?.command as string[] | undefined)?.[1] ?? container.lifecycle?.preStop?.sleep?.seconds ?? 0);
  if (!(sleep > 0)) problems.push(`${where}: router has no preStop sleep (endpoints must drop before SIGTERM)`);
  const grace = spec.terminationGracePeriodSeconds ?? 30;
  if (grace * 1000 <= sleep * 1000 + config.drainTimeoutMs) problems.push(`${where}: terminationGracePeriodSeconds ${grace} ≤ preStop ${sleep} s + drainTimeoutMs ${config.drainTimeoutMs}`);
  if (deployment.spec.strategy?.rollingUpdate?.maxUnavailable !== 0) problems.push(`${where}: router rollout maxUnavailable is not 0`);

  for (const [name, cluster] of Object.entries(config.clusters)) {
    const dns = (cluster as { discovery?: { dns?: { name: string; port: number } } }).discovery?.dns;
    if (dns === undefined) continue;
    const serviceName = dns.name.split('.')[0];
    const service = objects.find((o) => o.kind === 'Service' && o.metadata?.name === serviceName);
    if (service === undefined) problems.push(`${where}: cluster ${name} discovers ${dns.name}, no such Service`);
    else {
      if (service.spec?.clusterIP !== 'None') problems.push(`${where}: Service ${serviceName} (cluster ${name}) is not headless (clusterIP: None)`);
      if (!(service.spec?.ports ?? []).some((p: Obj) => p.port === dns.port)) problems.push(`${where}: Service ${serviceName} has no port ${dns.port} (cluster ${name})`);
      // A Triton in explicit model control serves only what it loads: a routed model it does not
      // load keeps /readyz at 503, so no router pod would ever be Ready.
      for (const w of objects.filter((o) => o.kind === 'Deployment' && matches(service.spec?.selector, o.spec?.template?.metadata?.labels))) {
        const args: string[] = (w.spec.template.spec.containers ?? []).flatMap((c: Obj) => [...(c.command ?? []), ...(c.args ?? [])]);
        if (!args.includes('--model-control-mode=explicit')) continue;
        const loaded = new Set(args.filter((a) => a.startsWith('--load-model=')).map((a) => a.slice('--load-model='.length)));
        for (const [model, route] of Object.entries(config.models)) {
          const r = route as { split: { cluster: string; upstreamModel?: string }[]; mirror?: { to: { cluster: string; upstreamModel?: string } } };
          for (const target of [...r.split, ...(r.mirror === undefined ? [] : [r.mirror.to])]) {
            const upstream = target.upstreamModel ?? model;
            if (target.cluster === name && !loaded.has(upstream) && !loaded.has('*')) problems.push(`${where}: model ${model} routes to ${upstream} on cluster ${name}, which ${id(w)} does not load (--load-model)`);
          }
        }
      }
    }
  }
  return problems;
}

function checkCompose(root: string): string[] {
  const problems: string[] = [];
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Obj> };
  const hostPorts: string[] = [];
  for (const [name, s] of Object.entries(compose.services)) {
    if (s.image === undefined && s.build === undefined) problems.push(`compose ${name}: neither image nor build`);
    if (typeof s.image === 'string' && (!/:[^/]+$/.test(s.image) || s.image.endsWith(':latest'))) problems.push(`compose ${name}: image ${s.image} is not pinned to a tag`);
    for (const p of s.ports ?? []) {
      const parts = String(p).split(':');
      if (parts.length < 2 || parts.some((x) => !/^\d+(\/(tcp|udp))?$/.test(x))) problems.push(`compose ${name}: port ${p} is not HOST:CONTAINER`);
      hostPorts.push(parts[0] as string);
    }
    for (const v of s.volumes ?? []) {
      const host = String(v).split(':')[0] as string;
      if ((host.startsWith('.') || host.startsWith('/')) && !existsSync(resolve(root, host))) problems.push(`compose ${name}: mounted host path ${host} does not exist`);
    }
    if ((s.profiles ?? []).includes('gpu')) {
      const devices: Obj[] = s.deploy?.resources?.reservations?.devices ?? [];
      if (!devices.some((d) => d.driver === 'nvidia' && (d.capabilities ?? []).includes('gpu'))) problems.push(`compose ${name}: gpu profile service without an NVIDIA device reservation`);
    }
  }
  const dup = hostPorts.filter((p, i) => hostPorts.indexOf(p) !== i);
  if (dup.length > 0) problems.push(`compose: host ports published twice: ${[...new Set(dup)].join(', ')}`);
  return problems;
}

export interface Report {
  problems: string[];
  lines: string[];
}

export async function checkDeploy(root: string, renderer: Renderer): Promise<Report> {
  const problems: string[] = [];
  const lines: string[] = [];
  const k8s = join(root, 'deploy/k8s');
  const overlays = readdirSync(join(k8s, 'overlays'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(k8s, 'overlays', d.name));
  const known = new Set([...EXTERNAL_METRICS, ...routerMetricNames(readFileSync(join(root, 'router/telemetry/metrics.ts'), 'utf8'))]);
  const scrape = scrapePorts(readFileSync(join(root, 'deploy/monitoring/prometheus/prometheus.k8s.yml'), 'utf8'));

  const renders = new Map<string, Obj[]>();
  for (const dir of [...overlays, join(k8s, 'gpu-monitoring')]) {
    const where = relative(root, dir);
    try {
      renders.set(where, render(renderer, dir));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }

  // prometheus-adapter rules: every source series exists.
  const adapter = new Map<string, string>();
  const adapterExternal = new Map<string, string>();
  for (const objects of renders.values()) {
    for (const o of objects) {
      const text = o.kind === 'ConfigMap' && o.metadata?.labels?.['app.kubernetes.io/name'] === 'prometheus-adapter' ? o.data?.['config.yaml'] : undefined;
      if (typeof text !== 'string') continue;
      for (const [name, source] of adapterMetrics(text)) adapter.set(name, source);
      for (const [name, source] of adapterMetrics(text, 'external')) adapterExternal.set(name, source);
    }
  }
  if (adapter.size === 0) problems.push('no prometheus-adapter rules ConfigMap rendered');
  for (const [name, source] of [...adapter, ...adapterExternal]) if (!known.has(source)) problems.push(`prometheus-adapter metric ${name} reads unknown series ${source}`);

  for (const [where, objects] of renders) {
    const before = problems.length;
    for (const o of objects) {
      for (const p of validateSchema(o)) problems.push(`${where}: ${p}`);
      if (o.metadata?.namespace === undefined) problems.push(`${where}: ${id(o)} has no namespace`);
      if (o.kind === 'Deployment' || o.kind === 'DaemonSet') {
        for (const p of checkWorkloadPolicy(o)) problems.push(`${where}: ${p}`);
        const name = o.spec?.template?.metadata?.labels?.['app.kubernetes.io/name'];
        const port = scrape.get(name);
        if (port !== undefined && !containerPortNames(o).has(port)) problems.push(`${where}: ${id(o)} is scraped by Prometheus on a port named ${port}, which it does not have`);
      }
      const workloads = objects.filter((x) => x.kind === 'Deployment' || x.kind === 'DaemonSet');
      if (o.kind === 'Service') {
        const targets = workloads.filter((w) => matches(o.spec?.selector, w.spec?.template?.metadata?.labels));
        if (targets.length === 0) problems.push(`${where}: ${id(o)} selects no workload`);
        for (const p of o.spec?.ports ?? []) {
          if (typeof p.targetPort === 'string' && !targets.every((w) => containerPortNames(w).has(p.targetPort))) problems.push(`${where}: ${id(o)} targets port ${p.targetPort}, missing on a selected pod`);
        }
      }
      if (o.kind === 'PodDisruptionBudget' && !workloads.some((w) => matches(o.spec?.selector?.matchLabels, w.spec?.template?.metadata?.labels))) problems.push(`${where}: ${id(o)} selects no workload`);
      if (o.kind === 'HorizontalPodAutoscaler') {
        const ref = o.spec?.scaleTargetRef;
        if (!objects.some((x) => x.kind === ref?.kind && x.metadata?.name === ref?.name)) problems.push(`${where}: ${id(o)} scales ${ref?.kind}/${ref?.name}, not in the render`);
        for (const m of o.spec?.metrics ?? []) {
          const metric = m.pods?.metric?.name ?? m.object?.metric?.name;
          if (metric !== undefined && !adapter.has(metric)) problems.push(`${where}: ${id(o)} reads ${metric}, which no prometheus-adapter rule exposes`);
          const external = m.external?.metric?.name;
          if (external !== undefined && !adapterExternal.has(external)) problems.push(`${where}: ${id(o)} reads external metric ${external}, which no prometheus-adapter externalRule exposes`);
        }
      }
      if (o.kind === 'ScaledObject') for (const p of checkScaledObject(o, objects, known)) problems.push(`${where}: ${p}`);
    }
    if (objects.some((o) => o.kind === 'Deployment' && o.metadata?.name === 'switchyard')) for (const p of checkRouter(objects, root, where)) problems.push(p);
    const kinds = new Map<string, number>();
    for (const o of objects) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
    lines.push(`${problems.length === before ? 'ok  ' : 'FAIL'} ${where}: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}`);
  }

  const composeProblems = checkCompose(root);
  problems.push(...composeProblems);
  lines.push(`${composeProblems.length === 0 ? 'ok  ' : 'FAIL'} docker-compose.yml`);
  return { problems, lines };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const renderer = findRenderer();
  if (renderer === undefined) {
    console.error(`check-deploy: ${INSTALL_HINT}`);
    process.exit(1);
  }
  console.log(`check-deploy: rendering with ${renderer.command} ${renderer.args('<dir>').join(' ')}`);
  checkDeploy(root, renderer).then(
    ({ problems, lines }) => {
      for (const line of lines) console.log(line);
      if (problems.length > 0) {
        for (const p of problems) console.error(`  ✗ ${p}`);
        console.error(`deploy check: ${problems.length} problem(s)`);
        process.exit(1);
      }
      console.log('deploy check: deploy/k8s and docker-compose.yml OK');
    },
    (err: unknown) => {
      console.error(`check-deploy: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}

// Guard for deploy/monitoring: promtool checks the compose Prometheus config (and the Kubernetes one
// with its kubernetes_sd blocks swapped out), every rule file, the alert unit tests and the
// dashboard's PromQL; every metric the rules and the dashboard read exists (router metrics in
// router/telemetry/metrics.ts, recorded series, or a known exporter's); every alert has its
// annotations, a runbook section and tests that fire it and keep it quiet.
// Run: `npm run check:monitoring` (test/integration/monitoring.test.ts runs it under `npm test`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse, stringify } from 'yaml';

export const INSTALL_HINT = 'install it with `apt-get install -y --no-install-recommends prometheus` (Debian/Ubuntu; .ci/run does this in CI)';

const PROMETHEUS_DIR = 'deploy/monitoring/prometheus';
const RULES_DIR = `${PROMETHEUS_DIR}/rules`;
const DASHBOARD = 'deploy/monitoring/grafana/switchyard-dashboard.json';
const ROUTER_METRICS = 'router/telemetry/metrics.ts';
const RUNBOOK = 'docs/runbook.md';
const SEVERITIES = new Set(['critical', 'warning', 'info']);

/**
 * Metrics of the exporters the rules and dashboard may read: Triton's `nv_*` (docs/user_guide/metrics.md),
 * dcgm-exporter's default and profiling `DCGM_FI_*` (etc/default-counters.csv, dcp-metrics-included.csv),
 * vLLM's `vllm:*` (counters with their `_total`), and what Prometheus itself writes. A histogram's
 * `_bucket/_sum/_count` map to its name.
 */
export const EXTERNAL_METRICS: ReadonlySet<string> = new Set([
  'up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added', 'ALERTS', 'ALERTS_FOR_STATE',
  'nv_inference_request_success', 'nv_inference_request_failure', 'nv_inference_count', 'nv_inference_exec_count',
  'nv_inference_pending_request_count', 'nv_inference_request_duration_us', 'nv_inference_queue_duration_us',
  'nv_inference_compute_input_duration_us', 'nv_inference_compute_infer_duration_us', 'nv_inference_compute_output_duration_us',
  'nv_inference_first_response_histogram_ms', 'nv_gpu_utilization', 'nv_gpu_memory_total_bytes', 'nv_gpu_memory_used_bytes',
  'nv_gpu_power_usage', 'nv_gpu_power_limit', 'nv_energy_consumption', 'nv_cpu_utilization', 'nv_cpu_memory_total_bytes',
  'nv_cpu_memory_used_bytes', 'nv_pinned_memory_pool_total_bytes', 'nv_pinned_memory_pool_used_bytes',
  'nv_cache_num_hits_per_model', 'nv_cache_num_misses_per_model', 'nv_cache_hit_duration_per_model', 'nv_cache_miss_duration_per_model',
  'nv_trt_llm_request_metrics', 'nv_trt_llm_kv_cache_block_metrics', 'nv_trt_llm_inflight_batcher_metrics',
  'nv_trt_llm_runtime_memory_metrics', 'nv_trt_llm_general_metrics', 'nv_trt_llm_disaggregated_serving_metrics',
  'DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_MEM_COPY_UTIL', 'DCGM_FI_DEV_ENC_UTIL', 'DCGM_FI_DEV_DEC_UTIL', 'DCGM_FI_DEV_FB_USED',
  'DCGM_FI_DEV_FB_FREE', 'DCGM_FI_DEV_SM_CLOCK', 'DCGM_FI_DEV_MEM_CLOCK', 'DCGM_FI_DEV_GPU_TEMP', 'DCGM_FI_DEV_MEMORY_TEMP',
  'DCGM_FI_DEV_POWER_USAGE', 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', 'DCGM_FI_DEV_PCIE_TX_THROUGHPUT', 'DCGM_FI_DEV_PCIE_RX_THROUGHPUT',
  'DCGM_FI_DEV_PCIE_REPLAY_COUNTER', 'DCGM_FI_DEV_XID_ERRORS', 'DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL', 'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
  'DCGM_FI_PROF_SM_ACTIVE', 'DCGM_FI_PROF_SM_OCCUPANCY', 'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', 'DCGM_FI_PROF_DRAM_ACTIVE',
  'vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc', 'vllm:engine_sleep_state',
  'vllm:lora_requests_info', 'vllm:cache_config_info', 'vllm:prompt_tokens_total', 'vllm:generation_tokens_total',
  'vllm:request_success_total', 'vllm:num_preemptions_total', 'vllm:prefix_cache_queries_total', 'vllm:prefix_cache_hits_total',
  'vllm:time_to_first_token_seconds', 'vllm:inter_token_latency_seconds', 'vllm:e2e_request_latency_seconds',
  'vllm:request_queue_time_seconds', 'vllm:request_prefill_time_seconds', 'vllm:request_decode_time_seconds',
  'vllm:request_inference_time_seconds', 'vllm:request_prompt_tokens', 'vllm:request_generation_tokens', 'vllm:request_params_n',
  'vllm:request_params_max_tokens', 'vllm:iteration_tokens_total',
]);

/** Node's process metrics as the router's prom-client registers them (`process_*`, `nodejs_*`). */
export async function nodeDefaultMetrics(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  registry.clear();
  return new Set(names);
}

/** The `switchyard_*` metric names a source file defines (string literals, as prom-client takes them). */
export function routerMetricNames(source: string): Set<string> {
  return new Set([...source.matchAll(/['"`](switchyard_[a-z0-9_]+)['"`]/g)].map((m) => m[1] as string));
}

// PromQL words that are not metric names when not followed by `(`.
const PROMQL_WORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'atan2', 'inf', 'nan',
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
]);

/**
 * Metric names an expression reads — pragmatic, not a parser: strings, label matchers, ranges and
 * grouping clauses are dropped first, then every identifier not called as a function and not a PromQL
 * keyword is a metric name (recording-rule names included). Grafana's `label_values(m, label)` counts m.
 */
export function promqlMetricNames(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#[^\n]*/g, ' ')
    .replace(/\blabel_values\s*\(\s*([^,()]+?)\s*,\s*[A-Za-z_]\w*\s*\)/g, ' $1 ')
    .replace(/\blabel_values\s*\(\s*[A-Za-z_]\w*\s*\)/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  const names = new Set<string>();
  for (const m of text.matchAll(/(?<![\w:$.])([A-Za-z_:][\w:]*)(?![\w:])(\s*\()?/g)) {
    const name = m[1] as string;
    if (m[2] === undefined && !PROMQL_WORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}

/** GitHub's anchor for a Markdown heading. */
export function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface AlertTestFile {
  tests?: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] | null }[] }[];
}
interface PrometheusConfig {
  rule_files: string[];
  scrape_configs: Record<string, unknown>[];
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { uid?: string };
  targets?: { expr?: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating?: { list: { name: string; type: string; definition?: string }[] };
}

export interface Report {
  readonly problems: string[];
  readonly notes: string[];
}

type Promtool = (args: string[]) => { ok: boolean; output: string };

function makePromtool(binary: string): Promtool {
  return (args) => {
    const r = spawnSync(binary, args, { encoding: 'utf8' });
    if (r.error !== undefined) {
      const code = (r.error as NodeJS.ErrnoException).code;
      throw new Error(code === 'ENOENT' ? `promtool not found (${binary}): ${INSTALL_HINT}` : `promtool failed to start: ${r.error.message}`);
    }
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
  };
}

const indent = (text: string): string =>
  text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');

/** Grafana's variables in PromQL, replaced so promtool can parse the expression. */
const withoutGrafanaVariables = (expr: string): string => expr.replace(/\$__(?:rate_interval|interval|range)\b/g, '5m').replace(/\$\{?\w+\}?/g, 'x');

const flatPanels = (panels: readonly Panel[]): Panel[] => panels.flatMap((p) => [p, ...flatPanels(p.panels ?? [])]);

const readYaml = <T>(path: string): T => parse(readFileSync(path, 'utf8')) as T;

export async function checkMonitoring(root: string, promtoolBinary = process.env.PROMTOOL ?? 'promtool'): Promise<Report> {
  const problems: string[] = [];
  const notes: string[] = [];
  const at = (path: string): string => join(root, path);
  const promtool = makePromtool(promtoolBinary);
  const run = (label: string, args: string[]): void => {
    const r = promtool(args);
    if (r.ok) notes.push(`ok    promtool ${label}`);
    else problems.push(`promtool ${label}:\n${indent(r.output)}`);
  };

  const ruleFiles = readdirSync(at(RULES_DIR)).filter((f) => f.endsWith('.yml') && !f.endsWith('.test.yml')).sort();
  const testFiles = readdirSync(at(RULES_DIR)).filter((f) => f.endsWith('.test.yml')).sort();
  const rules = ruleFiles.flatMap((f) => readYaml<RuleFile>(at(`${RULES_DIR}/${f}`)).groups.flatMap((g) => g.rules.map((rule) => ({ file: f, rule }))));
  const dashboard = JSON.parse(readFileSync(at(DASHBOARD), 'utf8')) as Dashboard;
  const panels = flatPanels(dashboard.panels);
  const queries = panels.flatMap((p) => (p.targets ?? []).flatMap((t) => (t.expr === undefined ? [] : [{ expr: t.expr, where: `panel "${p.title}"` }])));

  // 1. The compose config, with the rule files it names and its file_sd target files.
  run('check config prometheus.yml', ['check', 'config', at(`${PROMETHEUS_DIR}/prometheus.yml`)]);
  const compose = readYaml<PrometheusConfig>(at(`${PROMETHEUS_DIR}/prometheus.yml`));
  for (const f of ruleFiles) if (!compose.rule_files.includes(`rules/${f}`)) problems.push(`rules/${f} is not in prometheus.yml's rule_files`);

  // 2. The Kubernetes config: Debian's promtool has no kubernetes_sd, so a copy without it is checked.
  const k8s = readYaml<PrometheusConfig>(at(`${PROMETHEUS_DIR}/prometheus.k8s.yml`));
  const jobs = (c: PrometheusConfig): string => c.scrape_configs.map((j) => String(j.job_name)).sort().join(', ');
  if (jobs(k8s) !== jobs(compose)) problems.push(`prometheus.k8s.yml has jobs [${jobs(k8s)}], prometheus.yml [${jobs(compose)}]: the alerts key on job names`);
  if (JSON.stringify(k8s.rule_files) !== JSON.stringify(compose.rule_files)) problems.push('prometheus.k8s.yml and prometheus.yml load different rule_files');
  const scratch = mkdtempSync(join(tmpdir(), 'check-monitoring-'));
  try {
    const staticK8s = {
      ...k8s,
      rule_files: k8s.rule_files.map((f) => resolve(at(PROMETHEUS_DIR), f)),
      scrape_configs: k8s.scrape_configs.map(({ kubernetes_sd_configs: sd, ...job }) => (sd === undefined ? job : { ...job, static_configs: [] })),
    };
    writeFileSync(join(scratch, 'prometheus.k8s-static.yml'), stringify(staticK8s));
    run('check config prometheus.k8s.yml (kubernetes_sd_configs swapped for static_configs)', ['check', 'config', join(scratch, 'prometheus.k8s-static.yml')]);

    // 3. Rule files and their unit tests.
    for (const f of ruleFiles) run(`check rules ${f}`, ['check', 'rules', at(`${RULES_DIR}/${f}`)]);
    for (const f of testFiles) run(`test rules ${f}`, ['test', 'rules', at(`${RULES_DIR}/${f}`)]);

    // 4. The dashboard's PromQL, as recording rules promtool can parse.
    const asRules = { groups: [{ name: 'dashboard', rules: queries.map(({ expr }, i) => ({ record: `dashboard:query_${i}`, expr: withoutGrafanaVariables(expr) })) }] };
    writeFileSync(join(scratch, 'dashboard-queries.yml'), stringify(asRules));
    const r = promtool(['check', 'rules', join(scratch, 'dashboard-queries.yml')]);
    if (r.ok) notes.push(`ok    promtool parses the dashboard's ${queries.length} queries`);
    else problems.push(`dashboard PromQL (dashboard:query_N is the Nth query of ${DASHBOARD}):\n${indent(r.output)}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  // 5. The dashboard: datasource by variable, unique panel ids.
  const ids = new Set<number>();
  for (const p of panels) {
    if (p.id === undefined || ids.has(p.id)) problems.push(`dashboard panel "${p.title}": missing or duplicate id`);
    else ids.add(p.id);
    const uids = p.type === 'row' ? [] : [p.datasource?.uid, ...(p.targets ?? []).map((t) => t.datasource?.uid ?? '${DS_PROMETHEUS}')];
    if (uids.some((uid) => uid !== '${DS_PROMETHEUS}')) problems.push(`dashboard panel "${p.title}": datasource uid must be \${DS_PROMETHEUS}`);
  }
  const variables = dashboard.templating?.list ?? [];
  if (!variables.some((v) => v.name === 'DS_PROMETHEUS' && v.type === 'datasource')) problems.push('dashboard: no datasource variable DS_PROMETHEUS');

  // 6. Every metric read is defined: by the router, a recording rule, or a known exporter.
  const routerSource = at(ROUTER_METRICS);
  const router = existsSync(routerSource) ? routerMetricNames(readFileSync(routerSource, 'utf8')) : new Set<string>();
  if (!existsSync(routerSource)) problems.push(`${ROUTER_METRICS} does not exist (yet): no switchyard_* name can be confirmed`);
  const recorded = new Set(rules.flatMap(({ rule }) => (rule.record === undefined ? [] : [rule.record])));
  const defaults = await nodeDefaultMetrics();
  const kindOf = (name: string): 'router' | 'recorded' | 'external' | undefined => {
    const base = name.replace(/_(?:bucket|sum|count)$/, '');
    if (router.has(name) || router.has(base)) return 'router';
    if (recorded.has(name)) return 'recorded';
    if ([name, base].some((n) => EXTERNAL_METRICS.has(n) || defaults.has(n))) return 'external';
    return undefined;
  };
  const uses = [
    ...rules.flatMap(({ file, rule }) => promqlMetricNames(rule.expr).map((name) => ({ name, where: `${file} ${rule.alert ?? rule.record}` }))),
    ...queries.flatMap(({ expr, where }) => promqlMetricNames(expr).map((name) => ({ name, where }))),
    ...variables.flatMap((v) => (v.definition === undefined ? [] : promqlMetricNames(v.definition).map((name) => ({ name, where: `dashboard variable $${v.name}` })))),
  ];
  const missing = new Map<string, Set<string>>();
  const found = { router: new Set<string>(), recorded: new Set<string>(), external: new Set<string>() };
  for (const { name, where } of uses) {
    const kind = kindOf(name);
    if (kind === undefined) missing.set(name, (missing.get(name) ?? new Set()).add(where));
    else found[kind].add(kind === 'router' && !router.has(name) ? name.replace(/_(?:bucket|sum|count)$/, '') : name);
  }
  for (const [name, where] of [...missing].sort(([a], [b]) => a.localeCompare(b))) {
    problems.push(`unknown metric ${name} (not in ${ROUTER_METRICS}, the recording rules or the known exporters), read by: ${[...where].join('; ')}`);
  }
  if (missing.size === 0) notes.push(`ok    metric names: ${found.router.size} router, ${found.recorded.size} recorded, ${found.external.size} external — all defined`);
  const unread = [...router].filter((n) => !found.router.has(n)).sort();
  if (unread.length > 0) notes.push(`note  router metrics no rule or panel reads: ${unread.join(', ')}`);

  // 7. Alerts: severity, annotations, a runbook section, a test that fires it and one that does not.
  const anchors = new Set(
    readFileSync(at(RUNBOOK), 'utf8')
      .split('\n')
      .filter((l) => /^#{1,6}\s/.test(l))
      .map((l) => githubAnchor(l.replace(/^#+/, ''))),
  );
  const fired = new Set<string>();
  const quiet = new Set<string>();
  for (const f of testFiles) {
    for (const t of readYaml<AlertTestFile>(at(`${RULES_DIR}/${f}`)).tests ?? []) {
      for (const a of t.alert_rule_test ?? []) ((a.exp_alerts ?? []).length > 0 ? fired : quiet).add(a.alertname);
    }
  }
  const alerts = rules.flatMap(({ rule }) => (rule.alert === undefined ? [] : [{ ...rule, alert: rule.alert }]));
  for (const rule of alerts) {
    const name = rule.alert;
    const a = rule.annotations ?? {};
    for (const key of ['summary', 'description', 'runbook_url']) if (!a[key]) problems.push(`alert ${name}: no ${key} annotation`);
    if (!SEVERITIES.has(rule.labels?.severity ?? '')) problems.push(`alert ${name}: severity must be one of ${[...SEVERITIES].join(', ')}`);
    const anchor = /^docs\/runbook\.md#(.+)$/.exec(a.runbook_url ?? '')?.[1];
    if (anchor === undefined) problems.push(`alert ${name}: runbook_url must be docs/runbook.md#<anchor>, is "${a.runbook_url ?? ''}"`);
    else if (!anchors.has(anchor)) problems.push(`alert ${name}: ${RUNBOOK} has no section #${anchor}`);
    if (!fired.has(name)) problems.push(`alert ${name}: no unit test expects it to fire`);
    if (!quiet.has(name)) problems.push(`alert ${name}: no unit test expects it to stay quiet`);
  }
  notes.push(`ok    ${alerts.length} alerts: severity, annotations, runbook section, tests that fire and stay quiet`);
  return { problems, notes };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  checkMonitoring(root).then(
    ({ problems, notes }) => {
      process.stdout.write(`${notes.join('\n')}\n`);
      if (problems.length > 0) {
        process.stderr.write(`monitoring check failed (${problems.length}):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
        process.exit(1);
      }
      process.stdout.write('monitoring check: deploy/monitoring OK\n');
    },
    (err: unknown) => {
      process.stderr.write(`monitoring check failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

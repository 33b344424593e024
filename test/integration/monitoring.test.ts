// deploy/monitoring and docker-compose.yml, checked without Docker or a running Prometheus: the
// check script (promtool on configs, rules, alert unit tests and dashboard queries; every metric
// name defined) passes, it really catches what it claims to, and the compose file holds together.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfigFile } from '../../router/config/load-config.js';
import { checkMonitoring, githubAnchor, INSTALL_HINT, promqlMetricNames, routerMetricNames } from '../../scripts/check-monitoring.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('scripts/check-monitoring.ts', () => {
  test('passes on the repository (exit code 0)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-monitoring.ts'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /promtool test rules switchyard-alerts\.test\.yml/);
    assert.match(r.stdout, /monitoring check: deploy\/monitoring OK/);
  });

  test('without promtool it fails and says how to install it', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-monitoring.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PROMTOOL: join(tmpdir(), 'no-such-promtool') },
    });
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(INSTALL_HINT), r.stderr);
  });

  test('catches an unknown metric, a missing runbook section, an untested alert and a bad dashboard query', async () => {
    const root = mkdtempSync(join(tmpdir(), 'monitoring-'));
    try {
      for (const path of ['deploy/monitoring', 'docs/runbook.md', 'router/telemetry/metrics.ts']) cpSync(join(ROOT, path), join(root, path), { recursive: true });
      const rulesPath = join(root, 'deploy/monitoring/prometheus/rules/switchyard-alerts.yml');
      writeFileSync(rulesPath, readFileSync(rulesPath, 'utf8').replace('max by (cluster, endpoint) (switchyard_endpoint_ejected) > 0', 'max by (cluster, endpoint) (switchyard_endpoint_ejectd) > 0'));
      const runbookPath = join(root, 'docs/runbook.md');
      writeFileSync(runbookPath, readFileSync(runbookPath, 'utf8').replace('## SwitchyardGpuUtilizationLow', '## GPU idle'));
      const testsPath = join(root, 'deploy/monitoring/prometheus/rules/switchyard-alerts.test.yml');
      writeFileSync(testsPath, readFileSync(testsPath, 'utf8').replaceAll('alertname: SwitchyardBatchQueueDeep', 'alertname: SwitchyardBatchQueueFull'));
      const dashboardPath = join(root, 'deploy/monitoring/grafana/switchyard-dashboard.json');
      writeFileSync(dashboardPath, readFileSync(dashboardPath, 'utf8').replace('sum(switchyard_requests_in_flight)', 'sum(switchyard_requests_in_flight'));

      const { problems } = await checkMonitoring(root);
      const text = problems.join('\n');
      assert.match(text, /unknown metric switchyard_endpoint_ejectd .*SwitchyardEndpointEjected/);
      assert.match(text, /alert SwitchyardGpuUtilizationLow: docs\/runbook\.md has no section #switchyardgpuutilizationlow/);
      assert.match(text, /alert SwitchyardBatchQueueDeep: no unit test expects it to fire/);
      assert.match(text, /dashboard PromQL/);
      assert.match(text, /promtool test rules switchyard-alerts\.test\.yml/, 'the unit tests now fail too');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('metric names in PromQL: functions, keywords, label matchers, ranges and grouping are not names', () => {
    assert.deepEqual(
      promqlMetricNames('sum by (model, le) (rate(a_bucket{le=~"1|1\\\\.0", job="x"}[5m] offset 1h)) / on (model) group_left (kind) b:rec:rate5m > 1e6 and C unless count without (x) (d) @ start()'),
      ['a_bucket', 'b:rec:rate5m', 'C', 'd'],
    );
    assert.deepEqual(promqlMetricNames('histogram_quantile(0.99, sum by (le) (rate(x_bucket[$__rate_interval])))'), ['x_bucket']);
    assert.deepEqual(promqlMetricNames('label_values(switchyard_requests_total, model)'), ['switchyard_requests_total']);
    assert.deepEqual(promqlMetricNames('label_values(model)'), []);
    assert.deepEqual(promqlMetricNames('absent(up{job="switchyard"})'), ['up']);
  });

  test('router metric names come from the string literals of metrics.ts', () => {
    const names = routerMetricNames(`new Counter({ name: 'switchyard_requests_total' }); new Histogram({ name: "switchyard_batch_size" }); // switchyard_not_a_literal`);
    assert.deepEqual([...names], ['switchyard_requests_total', 'switchyard_batch_size']);
  });

  test('runbook anchors follow GitHub', () => {
    assert.equal(githubAnchor(' SwitchyardTTFTBudgetBurnFast'), 'switchyardttftbudgetburnfast');
    assert.equal(githubAnchor('Router down: first checks'), 'router-down-first-checks');
  });
});

interface ComposeService {
  image?: string;
  build?: unknown;
  profiles?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: string[] | Record<string, unknown>;
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
  const services = compose.services;
  const defaults = Object.entries(services).filter(([, s]) => s.profiles === undefined).map(([name]) => name);

  test('`docker compose up` still starts only the router and the dev runtime; the observability profile adds Prometheus, Grafana, Jaeger', () => {
    assert.deepEqual(defaults.sort(), ['dev-runtime', 'router']);
    const observability = Object.entries(services).filter(([, s]) => s.profiles?.includes('observability')).map(([name]) => name);
    assert.deepEqual(observability.sort(), ['grafana', 'jaeger', 'prometheus']);
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.image !== undefined || s.build !== undefined, `${name} has an image or a build`);
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const dep of deps) {
        assert.ok(services[dep] !== undefined, `${name} depends on unknown service ${dep}`);
        if (s.profiles === undefined) assert.equal(services[dep]?.profiles, undefined, `default service ${name} must not depend on profiled ${dep}`);
      }
    }
  });

  test('published host ports are unique and every bind-mounted file exists', () => {
    const hostPorts = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]));
    assert.equal(new Set(hostPorts).size, hostPorts.length, `duplicate host ports: ${hostPorts.join(', ')}`);
    for (const [name, s] of Object.entries(services)) {
      for (const volume of s.volumes ?? []) {
        const host = volume.split(':')[0] as string;
        if (host.startsWith('.')) assert.ok(existsSync(join(ROOT, host)), `${name}: ${host} does not exist`);
      }
    }
  });

  test("the router's mounted config is the embedded default plus tracing to jaeger, off unless SWITCHYARD_TRACING=true", () => {
    const router = services.router as ComposeService;
    const configPath = router.environment?.SWITCHYARD_CONFIG;
    const mount = (router.volumes ?? []).find((v) => v.split(':')[1] === configPath);
    assert.ok(mount !== undefined, `SWITCHYARD_CONFIG=${configPath} is mounted`);
    const file = join(ROOT, mount.split(':')[0] as string);
    assert.equal(router.environment?.SWITCHYARD_TRACING, '${SWITCHYARD_TRACING:-false}');

    const env = { SWITCHYARD_HOST: '0.0.0.0', SWITCHYARD_DEV_RUNTIME: 'dev-runtime:18001', SWITCHYARD_DEV_RUNTIME_OPENAI: 'dev-runtime:18002' };
    const { telemetry: _default, ...embedded } = loadConfigFile(join(ROOT, 'router/config/default.yaml'), env);
    const { telemetry, ...mounted } = loadConfigFile(file, { ...env, SWITCHYARD_TRACING: 'false' });
    assert.deepEqual(mounted, embedded);
    assert.equal(telemetry.tracing.enabled, false);

    const traced = loadConfigFile(file, { ...env, SWITCHYARD_TRACING: 'true' }).telemetry.tracing;
    assert.equal(traced.enabled, true);
    const endpoint = new URL(traced.endpoint ?? '');
    assert.equal(endpoint.hostname, 'jaeger');
    assert.ok(services.jaeger?.ports?.some((p) => p.endsWith(`:${endpoint.port}`)), `jaeger publishes ${endpoint.port}`);
  });

  test('Prometheus scrapes services that exist on the ports they listen on; Grafana reads that Prometheus', () => {
    const prom = parse(readFileSync(join(ROOT, 'deploy/monitoring/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
    };
    const targets = prom.scrape_configs.flatMap((j) => (j.static_configs ?? []).flatMap((c) => c.targets));
    assert.ok(targets.includes('router:8002'));
    for (const target of targets) {
      const [host, port] = target.split(':');
      assert.ok(services[host as string]?.ports?.some((p) => p.endsWith(`:${port}`)), `${target}: no service ${host} exposing ${port}`);
    }
    assert.ok(services.prometheus?.volumes?.some((v) => v.startsWith('./deploy/monitoring/prometheus:/etc/prometheus')));
    const datasources = parse(readFileSync(join(ROOT, 'deploy/monitoring/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: { url: string }[] };
    assert.equal(datasources.datasources[0]?.url, 'http://prometheus:9090');
    assert.ok(services.prometheus?.ports?.includes('9090:9090'));
    const providers = parse(readFileSync(join(ROOT, 'deploy/monitoring/grafana/provisioning/dashboards/switchyard.yml'), 'utf8')) as { providers: { options: { path: string } }[] };
    const dashboardDir = providers.providers[0]?.options.path as string;
    assert.ok(services.grafana?.volumes?.some((v) => v.split(':')[1]?.startsWith(`${dashboardDir}/`)), `a dashboard is mounted under ${dashboardDir}`);
  });
});

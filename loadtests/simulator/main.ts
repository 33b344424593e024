// `npm run simulate -- --profile NAME --trace spike [...]`: one simulated run → summary.json,
// chart.svg and a one-line summary on stdout. Exit 2 on bad flags, 1 on a failed run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChart } from './render-chart.js';
import { resolveRun } from './resolve-run.js';
import { runSimulation } from './simulation.js';
import { helpText, OptionsError, parseSimulatorArgs } from './simulator-options.js';
import { buildSummary, oneLine, type Summary } from './summary.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** Runs, writes summary.json and chart.svg under `out`, returns the summary. */
export function simulateToDir(argv: readonly string[], out?: string): { summary: Summary; dir: string } {
  const options = parseSimulatorArgs(argv);
  const run = resolveRun(options, REPO_ROOT);
  const result = runSimulation(run.config);
  const summary = buildSummary(run, result);
  const dir = resolve(out ?? options.out ?? join(REPO_ROOT, 'loadtests/results/simulator', run.name));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeFileSync(
    join(dir, 'chart.svg'),
    renderChart({
      title: `${run.name}`,
      subtitle: [
        `${run.config.hpa === undefined ? `fixed fleet of ${run.config.initialReplicas}` : `HPA on ${run.config.hpa.metrics.map((m) => `${m.name} ${m.target.type === 'AverageValue' ? m.target.averageValue : ''}`).join(' + ')} (${summary.inputs['overlay']}, ${run.config.hpa.minReplicas}–${run.config.hpa.maxReplicas})`} · seed ${run.config.seed} · trace peak ${Number((summary.inputs['trace'] as { peakRps: number }).peakRps).toFixed(1)} req/s`,
        oneLine(summary),
      ],
      latencyLabel: run.config.profile.kind === 'llm' ? 'TTFT' : 'latency',
      windowS: run.config.windowS,
      timeline: result.timeline,
      totals: result.totals,
    }),
  );
  return { summary, dir };
}

function main(argv: readonly string[]): number {
  let options;
  try {
    options = parseSimulatorArgs(argv);
  } catch (err) {
    if (err instanceof OptionsError) {
      process.stderr.write(`simulate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (options.help) {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  try {
    const { summary, dir } = simulateToDir(argv);
    process.stdout.write(`${summary.name}: ${oneLine(summary)} → ${dir}\n`);
    return 0;
  } catch (err) {
    if (err instanceof OptionsError) {
      process.stderr.write(`simulate: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`simulate: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}

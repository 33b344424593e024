// The shape of summary.json and the one-line digest printed on stdout. No wall-clock time or
// host detail goes in, so the same inputs and seed give a byte-identical file.
import type { ResolvedRun } from './resolve-run.js';
import type { SimulationResult, SimulationTotals, WindowStats } from './simulation.js';

export interface Summary {
  readonly simulator: 'switchyard-autoscaling-simulator/1';
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly totals: SimulationTotals;
  readonly timeline: readonly WindowStats[];
}

export function buildSummary(run: ResolvedRun, result: SimulationResult): Summary {
  return { simulator: 'switchyard-autoscaling-simulator/1', name: run.name, inputs: run.inputs, totals: result.totals, timeline: result.timeline };
}

export function oneLine(s: Summary): string {
  const t = s.totals;
  const label = t.e2e !== undefined ? 'TTFT' : 'latency';
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  const ms = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(1)} ms`);
  return [
    `${t.requests} req`,
    `${label} p50 ${ms(t.latency.p50Ms)} p99 ${ms(t.latency.p99Ms)}`,
    `shed ${t.shed}${t.killed > 0 ? ` killed ${t.killed}` : ''}`,
    `SLO(${t.sloMs} ms) viol ${pct(t.sloViolationRate)}`,
    `replicas max ${t.replicasMax} mean ready ${t.replicasMeanReady}`,
    `${t.gpuHours} GPU-h`,
  ].join(', ');
}

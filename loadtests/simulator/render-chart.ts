// summary.json → chart.svg, hand-written SVG (no dependency): three panels on one time axis —
// offered and served rate, replicas (ready, ready + starting, HPA desired), and p99 latency/TTFT
// per window on a log scale with the SLO line. Readable at 1000 px wide in a browser or a PR.
import type { SimulationTotals, WindowStats } from './simulation.js';

export interface ChartInput {
  readonly title: string;
  /** Up to two lines under the title. */
  readonly subtitle: readonly string[];
  readonly latencyLabel: string;
  readonly windowS: number;
  readonly timeline: readonly WindowStats[];
  readonly totals: SimulationTotals;
}

const W = 1000;
const LEFT = 70;
const RIGHT = 170;
const PLOT_W = W - LEFT - RIGHT;
const PANEL_H = 170;
const GAP = 45;
const TOP = 80;

const COLORS = { offered: '#1f77b4', served: '#9ecae1', shed: '#d62728', ready: '#2ca02c', total: '#98df8a', desired: '#ff7f0e', p99: '#9467bd', p50: '#c5b0d5', slo: '#d62728' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  // Maxima whose quarters are round numbers (the grid has four steps).
  for (const m of [1, 2, 4, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toFixed(1))}k`;
  return String(Number(v.toFixed(2)));
}

export function renderChart(input: ChartInput): string {
  const tl = input.timeline;
  const tEnd = tl.length * input.windowS;
  const x = (t: number): number => LEFT + (t / Math.max(1, tEnd)) * PLOT_W;
  const out: string[] = [];
  const height = TOP + 3 * PANEL_H + 2 * GAP + 60;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${height}" fill="white"/>`);
  out.push(`<text x="${LEFT}" y="24" font-size="16" font-weight="bold">${esc(input.title)}</text>`);
  input.subtitle.slice(0, 2).forEach((line, i) => out.push(`<text x="${LEFT}" y="${42 + i * 15}" fill="#444">${esc(line)}</text>`));
  const mid = (w: WindowStats): number => w.t + input.windowS / 2;

  const panel = (i: number, label: string, yMax: number, log: boolean, integerTicks: boolean, series: { name: string; color: string; values: (number | null)[]; step?: boolean; dash?: string }[], hline?: { value: number; label: string }): void => {
    const top = TOP + i * (PANEL_H + GAP);
    const yMinLog = 0; // log panels span 10^yMinLog .. yMax
    const y = (v: number): number => {
      if (log) {
        const lv = Math.log10(Math.max(v, 10 ** yMinLog));
        return top + PANEL_H - ((lv - yMinLog) / (Math.log10(yMax) - yMinLog)) * PANEL_H;
      }
      return top + PANEL_H - (v / yMax) * PANEL_H;
    };
    out.push(`<rect x="${LEFT}" y="${top}" width="${PLOT_W}" height="${PANEL_H}" fill="none" stroke="#999"/>`);
    out.push(`<text x="${LEFT - 55}" y="${top + PANEL_H / 2}" transform="rotate(-90 ${LEFT - 55} ${top + PANEL_H / 2})" text-anchor="middle">${esc(label)}</text>`);
    const ticks: number[] = [];
    if (log) for (let e = yMinLog; 10 ** e <= yMax; e++) ticks.push(10 ** e);
    else if (integerTicks) for (let k = 0; k <= yMax; k += Math.ceil(yMax / 8)) ticks.push(k);
    else for (let k = 0; k <= 4; k++) ticks.push((yMax * k) / 4);
    for (const v of ticks) {
      const yy = y(v).toFixed(1);
      out.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${yy}" y2="${yy}" stroke="#eee"/>`);
      out.push(`<text x="${LEFT - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${fmt(v)}</text>`);
    }
    if (hline) {
      const yy = y(hline.value).toFixed(1);
      out.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${yy}" y2="${yy}" stroke="${COLORS.slo}" stroke-dasharray="6 4"/>`);
    }
    for (const s of series) {
      const pts: string[] = [];
      s.values.forEach((v, k) => {
        const w = tl[k] as WindowStats;
        if (v === null) return;
        if (s.step) pts.push(`${x(w.t).toFixed(1)},${y(v).toFixed(1)}`, `${x(w.t + input.windowS).toFixed(1)},${y(v).toFixed(1)}`);
        else pts.push(`${x(mid(w)).toFixed(1)},${y(v).toFixed(1)}`);
      });
      if (pts.length > 0) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${pts.join(' ')}"/>`);
    }
    // Legend to the right of the panel.
    const legend = [...series.map((s) => ({ name: s.name, color: s.color, dash: s.dash })), ...(hline ? [{ name: hline.label, color: COLORS.slo, dash: '6 4' }] : [])];
    legend.forEach((l, k) => {
      const ly = top + 12 + k * 18;
      out.push(`<line x1="${LEFT + PLOT_W + 12}" x2="${LEFT + PLOT_W + 36}" y1="${ly}" y2="${ly}" stroke="${l.color}" stroke-width="2"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''}/>`);
      out.push(`<text x="${LEFT + PLOT_W + 42}" y="${ly}" dominant-baseline="middle">${esc(l.name)}</text>`);
    });
    // Time axis under every panel.
    const step = niceMax(tEnd / 60 / 8);
    for (let m = 0; m * 60 <= tEnd; m += step) {
      const xx = x(m * 60).toFixed(1);
      out.push(`<line x1="${xx}" x2="${xx}" y1="${top + PANEL_H}" y2="${top + PANEL_H + 4}" stroke="#999"/>`);
      out.push(`<text x="${xx}" y="${top + PANEL_H + 16}" text-anchor="middle">${m}</text>`);
    }
  };

  const rates = tl.map((w) => w.offeredRps);
  const served = tl.map((w) => w.completed / input.windowS);
  const shed = tl.map((w) => w.shed / input.windowS);
  const rateMax = niceMax(Math.max(...rates, ...served, 1e-9));
  panel(0, 'requests/s', rateMax, false, false, [
    { name: 'offered', color: COLORS.offered, values: rates },
    { name: 'completed', color: COLORS.served, values: served, dash: '4 3' },
    { name: 'shed (503)', color: COLORS.shed, values: shed },
  ]);
  const total = tl.map((w) => w.replicasReady + w.replicasStarting);
  const repMax = Math.ceil(Math.max(...total, ...tl.map((w) => w.hpaDesired ?? 0), ...tl.map((w) => w.replicasReady + w.replicasStarting + w.replicasDraining), 1) + 0.5);
  panel(1, 'replicas', repMax, false, true, [
    { name: 'ready', color: COLORS.ready, values: tl.map((w) => w.replicasReady), step: true },
    { name: 'ready + starting', color: COLORS.total, values: total, step: true, dash: '5 3' },
    { name: 'HPA desired', color: COLORS.desired, values: tl.map((w) => w.hpaDesired ?? null), step: true, dash: '2 3' },
  ]);
  const lat = tl.flatMap((w) => [w.p99Ms, w.p50Ms]);
  const latMax = 10 ** Math.max(1, Math.ceil(Math.log10(Math.max(...lat, input.totals.sloMs * 2, 1))));
  panel(2, `${input.latencyLabel} ms (log)`, latMax, true, false, [
    { name: `p99 ${input.latencyLabel}`, color: COLORS.p99, values: tl.map((w) => (w.completed > 0 || w.p99Ms > 0 ? w.p99Ms : null)) },
    { name: `p50 ${input.latencyLabel}`, color: COLORS.p50, values: tl.map((w) => (w.completed > 0 || w.p50Ms > 0 ? w.p50Ms : null)) },
  ], { value: input.totals.sloMs, label: `SLO ${fmt(input.totals.sloMs)} ms` });
  const bottom = TOP + 3 * PANEL_H + 2 * GAP;
  out.push(`<text x="${LEFT + PLOT_W / 2}" y="${bottom + 36}" text-anchor="middle">time (minutes)</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

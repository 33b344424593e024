// A request-rate trace: piecewise-linear requests/s over time, as shipped in loadtests/traces/*.json.
// Validated once on load (closed format, times strictly increasing, rates ≥ 0), then frozen.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Trace {
  readonly name: string;
  readonly description: string;
  readonly unit: 'requests/s';
  /** [t seconds, rate requests/s]; the first t is 0, the last is the duration. */
  readonly points: readonly (readonly [number, number])[];
}

export const TRACE_NAMES = ['constant', 'ramp', 'diurnal', 'spike'] as const;
export const TRACES_DIR = 'loadtests/traces';

export class TraceError extends Error {
  override name = 'TraceError';
}

export function parseTrace(value: unknown, where = 'trace'): Trace {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TraceError(`${where}: not an object`);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!['name', 'description', 'unit', 'points'].includes(key)) throw new TraceError(`${where}.${key}: unknown key`);
  if (typeof o['name'] !== 'string' || o['name'] === '') throw new TraceError(`${where}.name: must be a non-empty string`);
  if (typeof o['description'] !== 'string') throw new TraceError(`${where}.description: must be a string`);
  if (o['unit'] !== 'requests/s') throw new TraceError(`${where}.unit: must be "requests/s"`);
  const points = o['points'];
  if (!Array.isArray(points) || points.length < 2) throw new TraceError(`${where}.points: need at least two [t, rate] points`);
  const out: (readonly [number, number])[] = [];
  points.forEach((p: unknown, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number' || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      throw new TraceError(`${where}.points[${i}]: must be [t, rate] numbers`);
    }
    const [t, rate] = p as [number, number];
    if (i === 0 && t !== 0) throw new TraceError(`${where}.points[0]: must start at t = 0`);
    const prev = out[i - 1];
    if (prev !== undefined && t <= prev[0]) throw new TraceError(`${where}.points[${i}]: t must increase (${t} after ${prev[0]})`);
    if (rate < 0) throw new TraceError(`${where}.points[${i}]: rate must be ≥ 0`);
    out.push(Object.freeze([t, rate] as const));
  });
  return Object.freeze({ name: o['name'], description: o['description'], unit: 'requests/s', points: Object.freeze(out) });
}

/** A shipped trace by name, or a JSON file by path. */
export function loadTrace(repoRoot: string, nameOrPath: string): Trace {
  const file = (TRACE_NAMES as readonly string[]).includes(nameOrPath) ? join(repoRoot, TRACES_DIR, `${nameOrPath}.json`) : nameOrPath;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TraceError(`cannot read trace ${nameOrPath} (${file}): ${(err as Error).message}`);
  }
  return parseTrace(raw, file);
}

export function traceDuration(trace: Trace): number {
  return (trace.points[trace.points.length - 1] as readonly [number, number])[0];
}

export function tracePeak(trace: Trace): number {
  return Math.max(...trace.points.map((p) => p[1]));
}

/** The trace with every rate multiplied by `factor`. */
export function scaleTrace(trace: Trace, factor: number): Trace {
  return Object.freeze({ ...trace, points: Object.freeze(trace.points.map((p) => Object.freeze([p[0], p[1] * factor] as const))) });
}

/** Rate at time t (linear between points, 0 after the end). */
export function rateAt(trace: Trace, t: number): number {
  const pts = trace.points;
  for (let i = 1; i < pts.length; i++) {
    const b = pts[i] as readonly [number, number];
    if (t <= b[0]) {
      const a = pts[i - 1] as readonly [number, number];
      return a[1] + ((b[1] - a[1]) * (t - a[0])) / (b[0] - a[0]);
    }
  }
  return 0;
}

/** Mean rate over [t0, t1] (exact integral of the piecewise-linear curve). */
export function meanRate(trace: Trace, t0: number, t1: number): number {
  const pts = trace.points;
  let area = 0;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1] as readonly [number, number];
    const b = pts[i] as readonly [number, number];
    const lo = Math.max(a[0], t0);
    const hi = Math.min(b[0], t1);
    if (hi <= lo) continue;
    area += ((rateAt(trace, lo) + rateAt(trace, hi)) / 2) * (hi - lo);
  }
  return t1 > t0 ? area / (t1 - t0) : 0;
}

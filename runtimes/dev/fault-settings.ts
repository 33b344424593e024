// The run-time knobs behind GET/POST /dev/faults: fault rates, the crash countdown, readiness and
// the cost model. A POST body is a partial object; it is validated as a whole (unknown keys and
// bad values are rejected, naming the key) before anything changes.
import type { CostModel } from './cost-model.js';
import type { FaultInjector } from './fault-injector.js';
import type { ServerReadiness } from './server-readiness.js';

export interface FaultView {
  errorRate: number;
  hangRate: number;
  crashAfter: number;
  ready: boolean;
  latencyAMs: number;
  latencyBMs: number;
  tokenLatencyMs: number;
  prefillMsPerToken: number;
}

export interface FaultTargets {
  faults: FaultInjector;
  cost: CostModel;
  readiness: ServerReadiness;
}

export class FaultPatchError extends Error {
  override name = 'FaultPatchError';
}

type Check = (value: unknown) => string | undefined;

const rate: Check = (v) => (typeof v === 'number' && v >= 0 && v <= 1 ? undefined : 'must be a number in 0..1');
const millis: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 60_000 ? undefined : 'must be a number of ms in 0..60000');
const count: Check = (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? undefined : 'must be a non-negative integer');
const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');

const CHECKS: Record<keyof FaultView, Check> = {
  errorRate: rate,
  hangRate: rate,
  crashAfter: count,
  ready: boolean,
  latencyAMs: millis,
  latencyBMs: millis,
  tokenLatencyMs: millis,
  prefillMsPerToken: millis,
};

export function readFaults({ faults, cost, readiness }: FaultTargets): FaultView {
  return {
    errorRate: faults.errorRate,
    hangRate: faults.hangRate,
    crashAfter: faults.crashAfter,
    ready: readiness.ready,
    latencyAMs: cost.latencyAMs,
    latencyBMs: cost.latencyBMs,
    tokenLatencyMs: cost.tokenLatencyMs,
    prefillMsPerToken: cost.prefillMsPerToken,
  };
}

export function applyFaultPatch(body: unknown, targets: FaultTargets): FaultView {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new FaultPatchError('body must be a JSON object, e.g. {"errorRate":0.5}');
  }
  const patch = body as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    const check = Object.hasOwn(CHECKS, key) ? CHECKS[key as keyof FaultView] : undefined;
    if (check === undefined) throw new FaultPatchError(`unknown key '${key}'; known: ${Object.keys(CHECKS).join(', ')}`);
    const problem = check(value);
    if (problem !== undefined) throw new FaultPatchError(`${key} ${problem}, got ${JSON.stringify(value)}`);
  }
  const p = patch as Partial<FaultView>;
  const { faults, cost, readiness } = targets;
  if (p.errorRate !== undefined) faults.errorRate = p.errorRate;
  if (p.hangRate !== undefined) faults.hangRate = p.hangRate;
  if (p.crashAfter !== undefined) faults.crashAfter = p.crashAfter;
  if (p.latencyAMs !== undefined) cost.latencyAMs = p.latencyAMs;
  if (p.latencyBMs !== undefined) cost.latencyBMs = p.latencyBMs;
  if (p.tokenLatencyMs !== undefined) cost.tokenLatencyMs = p.tokenLatencyMs;
  if (p.prefillMsPerToken !== undefined) cost.prefillMsPerToken = p.prefillMsPerToken;
  if (p.ready !== undefined) readiness.setReady(p.ready);
  return readFaults(targets);
}

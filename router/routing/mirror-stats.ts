// Cumulative mirror counters per model, since the router started (they survive config reloads).
// Latencies are {count, sum} so a reader can take means over any interval from two snapshots.

export interface LatencySum {
  count: number;
  sum: number;
}

export interface MirrorStats {
  /** Shadow copies sent. */
  mirrored: number;
  /** Copies the sampling chose but not sent: the router's cap on concurrent shadow calls was reached. */
  skipped: number;
  /** Shadow calls that finished with a fully consumed successful answer, or failed. */
  mirrorOk: number;
  mirrorFailed: number;
  /** Pairs with the same outcome (both OK, or the same canonical error code); a pair whose client left is not compared. */
  statusMatch: number;
  statusMismatch: number;
  /** Pairs where both succeeded and outputs could be compared (V2 infer only). */
  outputsMatch: number;
  outputsDiffer: number;
  /**
   * Per compared pair (the client did not leave first), so the two means compare like with like:
   * primary dispatch → client's answer complete; shadow dispatch → shadow's answer consumed.
   */
  primaryLatencyMs: LatencySum;
  mirrorLatencyMs: LatencySum;
}

export function emptyMirrorStats(): MirrorStats {
  return {
    mirrored: 0,
    skipped: 0,
    mirrorOk: 0,
    mirrorFailed: 0,
    statusMatch: 0,
    statusMismatch: 0,
    outputsMatch: 0,
    outputsDiffer: 0,
    primaryLatencyMs: { count: 0, sum: 0 },
    mirrorLatencyMs: { count: 0, sum: 0 },
  };
}

export class MirrorStatsBook {
  readonly #byModel = new Map<string, MirrorStats>();

  /** The live counters of a model (created on first use). */
  of(model: string): MirrorStats {
    let stats = this.#byModel.get(model);
    if (stats === undefined) {
      stats = emptyMirrorStats();
      this.#byModel.set(model, stats);
    }
    return stats;
  }

  /** A copy of every model's counters; `alsoModels` appear with zeros when nothing was counted yet. */
  snapshot(alsoModels: Iterable<string> = []): Record<string, MirrorStats> {
    const out: Record<string, MirrorStats> = {};
    for (const model of alsoModels) out[model] = emptyMirrorStats();
    for (const [model, s] of this.#byModel) {
      out[model] = { ...s, primaryLatencyMs: { ...s.primaryLatencyMs }, mirrorLatencyMs: { ...s.mirrorLatencyMs } };
    }
    return out;
  }
}

export function addLatency(sum: LatencySum, ms: number): void {
  sum.count += 1;
  sum.sum += ms;
}

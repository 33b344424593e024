// Envoy-style passive outlier detection for one cluster: endpoints that fail requests several times
// in a row are ejected (left out of picks) for a while, each repeat ejection longer. Active health
// checks catch a dead replica within an interval; this catches a live one that answers badly, from
// the traffic itself. Pure state keyed by endpoint address: the cluster asks, nothing fires on its own.
import type { OutlierDetectionConfig } from '../config/schema.js';

interface EndpointRecord {
  consecutiveFailures: number;
  /** Times ejected since the detector last forgot the endpoint: the multiplier of the ejection time. */
  ejections: number;
  ejectedUntil: number | null;
}

export class OutlierDetector {
  readonly #policy: OutlierDetectionConfig;
  readonly #now: () => number;
  /** Only endpoints with something to remember; a healthy, never-ejected endpoint has no record. */
  readonly #records = new Map<string, EndpointRecord>();

  constructor(policy: OutlierDetectionConfig, now: () => number = Date.now) {
    this.#policy = policy;
    this.#now = now;
  }

  /** A request to the endpoint succeeded: resets its consecutive-failure count. */
  success(address: string): void {
    const record = this.#records.get(address);
    if (record === undefined) return;
    record.consecutiveFailures = 0;
    if (record.ejections === 0) this.#records.delete(address);
  }

  /**
   * A request failed in a way that blames the endpoint. Ejects it when its consecutive failures
   * reach the policy, unless that would put more than maxEjectionPercent of `clusterSize` out at
   * once (with 3 endpoints at 50 %, at most 1); the count is kept, so the next failure tries again.
   * Failures of requests that were already in flight when the endpoint was ejected are ignored.
   * Returns true if this call ejected it.
   */
  failure(address: string, clusterSize: number): boolean {
    if (this.isEjected(address)) return false;
    let record = this.#records.get(address);
    if (record === undefined) {
      record = { consecutiveFailures: 0, ejections: 0, ejectedUntil: null };
      this.#records.set(address, record);
    }
    record.consecutiveFailures++;
    if (record.consecutiveFailures < this.#policy.consecutiveFailures) return false;
    // (ejected + 1) / size ≤ percent / 100, compared in integers.
    if ((this.ejectedCount() + 1) * 100 > clusterSize * this.#policy.maxEjectionPercent) return false;
    record.ejections++;
    record.consecutiveFailures = 0;
    record.ejectedUntil = this.#now() + Math.min(this.#policy.baseEjectionMs * record.ejections, this.#policy.maxEjectionMs);
    return true;
  }

  /**
   * Ejected now? An ejection ends on its own after baseEjectionMs × the endpoint's ejections (capped
   * at maxEjectionMs); the endpoint then returns with 0 consecutive failures but keeps its ejection
   * count, so a flapping endpoint stays out longer each time.
   */
  isEjected(address: string): boolean {
    const record = this.#records.get(address);
    if (record === undefined || record.ejectedUntil === null) return false;
    if (this.#now() < record.ejectedUntil) return true;
    record.ejectedUntil = null;
    record.consecutiveFailures = 0;
    return false;
  }

  ejectedCount(): number {
    let count = 0;
    for (const address of this.#records.keys()) if (this.isEjected(address)) count++;
    return count;
  }

  /** Health checking says the endpoint is healthy again after being down, or it left the cluster: start afresh. */
  forget(address: string): void {
    this.#records.delete(address);
  }

  /** For /readyz and logs. */
  snapshot(): Record<string, { ejectedUntil: number | null; ejections: number; consecutiveFailures: number }> {
    const out: Record<string, { ejectedUntil: number | null; ejections: number; consecutiveFailures: number }> = {};
    for (const [address, record] of this.#records) {
      this.isEjected(address); // expire a finished ejection first
      out[address] = { ejectedUntil: record.ejectedUntil, ejections: record.ejections, consecutiveFailures: record.consecutiveFailures };
    }
    return out;
  }
}

// Active health checks: every endpoint is probed every intervalMs (the first probe at once), and
// flips to unhealthy after unhealthyThreshold consecutive failures and back after healthyThreshold
// consecutive successes (Envoy's semantics). A probe that returns false, throws or outlives timeoutMs
// is a failure. An endpoint counts as healthy until proven otherwise, so a start or a DNS change never
// blackholes traffic while the first probes are out. Health is purely active: real traffic feeds the
// outlier detector, not this.
import type { HealthCheckConfig } from '../config/schema.js';
import type { Endpoint } from '../core/endpoint.js';

/** Resolves true when the endpoint is fit to serve. `deadline` is epoch ms; `signal` aborts at the timeout or on remove/stop. */
export type Probe = (endpoint: Endpoint, signal: AbortSignal, deadline: number) => Promise<boolean>;

interface Checked {
  readonly endpoint: Endpoint;
  healthy: boolean;
  successes: number;
  failures: number;
  /** The next probe, or the timeout of the probe in flight. */
  timer: NodeJS.Timeout | undefined;
  /** Set while a probe is in flight (at most one per endpoint). */
  inFlight: AbortController | undefined;
}

export class HealthChecker {
  readonly #config: HealthCheckConfig;
  readonly #probe: Probe;
  readonly #onChange: (address: string, healthy: boolean) => void;
  readonly #now: () => number;
  readonly #checked = new Map<string, Checked>();
  #stopped = false;

  /** `onChange` is called on every transition and must not throw; `now` (epoch ms) sets probe deadlines and the cadence. */
  constructor(config: HealthCheckConfig, probe: Probe, onChange?: (address: string, healthy: boolean) => void, now: () => number = Date.now) {
    for (const key of ['intervalMs', 'timeoutMs', 'unhealthyThreshold', 'healthyThreshold'] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 1) throw new RangeError(`healthCheck.${key} must be a positive integer, got ${config[key]}`);
    }
    this.#config = config;
    this.#probe = probe;
    this.#onChange = onChange ?? (() => {});
    this.#now = now;
  }

  /** Starts checking the endpoint (a no-op if it is already checked, or after stop). */
  add(endpoint: Endpoint): void {
    if (this.#stopped || this.#checked.has(endpoint.address)) return;
    const checked: Checked = { endpoint, healthy: true, successes: 0, failures: 0, timer: undefined, inFlight: undefined };
    this.#checked.set(endpoint.address, checked);
    void this.#check(checked);
  }

  /** Stops checking the endpoint and aborts its probe in flight; no onChange for it afterwards. */
  remove(address: string): void {
    const checked = this.#checked.get(address);
    if (checked === undefined) return;
    this.#checked.delete(address);
    this.#halt(checked);
  }

  /** False for an address that is not being checked (never added, removed, or after stop). */
  isHealthy(address: string): boolean {
    return this.#checked.get(address)?.healthy ?? false;
  }

  /** Clears every timer and aborts every probe in flight. */
  stop(): void {
    this.#stopped = true;
    for (const checked of this.#checked.values()) this.#halt(checked);
    this.#checked.clear();
  }

  #halt(checked: Checked): void {
    clearTimeout(checked.timer);
    checked.timer = undefined;
    checked.inFlight?.abort(new Error(`health check of ${checked.endpoint.address} stopped`));
    checked.inFlight = undefined;
  }

  #isCurrent(checked: Checked): boolean {
    return this.#checked.get(checked.endpoint.address) === checked;
  }

  async #check(checked: Checked): Promise<void> {
    const { intervalMs, timeoutMs } = this.#config;
    const startedAt = this.#now();
    const controller = new AbortController();
    checked.inFlight = controller;
    let passed = false;
    try {
      // The probe may ignore its signal: the race makes the timeout count regardless.
      const aborted = new Promise<false>((resolve) => controller.signal.addEventListener('abort', () => resolve(false), { once: true }));
      checked.timer = setTimeout(() => controller.abort(new Error(`health check of ${checked.endpoint.address} timed out after ${timeoutMs} ms`)), timeoutMs);
      checked.timer.unref();
      const probed = new Promise<boolean>((resolve) => resolve(this.#probe(checked.endpoint, controller.signal, startedAt + timeoutMs)));
      probed.catch(() => {}); // a probe rejecting after its timeout is still a handled failure
      passed = (await Promise.race([probed, aborted])) === true && !controller.signal.aborted;
    } catch {
      passed = false;
    }
    clearTimeout(checked.timer);
    checked.timer = undefined;
    checked.inFlight = undefined;
    if (!this.#isCurrent(checked) || this.#stopped) return;

    // Keep the cadence from the probe's start; a probe slower than the interval is followed at once.
    checked.timer = setTimeout(() => void this.#check(checked), Math.max(0, startedAt + intervalMs - this.#now()));
    checked.timer.unref();
    this.#record(checked, passed);
  }

  #record(checked: Checked, passed: boolean): void {
    if (passed) {
      checked.successes++;
      checked.failures = 0;
      if (!checked.healthy && checked.successes >= this.#config.healthyThreshold) {
        checked.healthy = true;
        this.#onChange(checked.endpoint.address, true);
      }
    } else {
      checked.failures++;
      checked.successes = 0;
      if (checked.healthy && checked.failures >= this.#config.unhealthyThreshold) {
        checked.healthy = false;
        this.#onChange(checked.endpoint.address, false);
      }
    }
  }
}

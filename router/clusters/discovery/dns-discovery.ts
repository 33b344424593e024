// Endpoints from a DNS name re-resolved every refreshMs: in Kubernetes a headless Service, one A/AAAA
// record per ready pod. It resolves with the system resolver (getaddrinfo via dns.lookup, not raw DNS
// queries) so /etc/hosts and the pod's search domains apply exactly as they do for any other client.
//
// A failed lookup keeps the last known set and reports through onError. So does an empty answer
// (no records, NXDOMAIN-like): a Service whose pods are all unready, or a resolver hiccup, must not
// empty the cluster. Dropping the endpoints would fail requests the router is still finishing and
// hide the outage from health; keeping them lets active health checks mark them down and the model
// unready, which is the signal the operator and the load balancer in front of us act on.
//
// A lookup that hangs (an unresponsive resolver: getaddrinfo waits out its own retries) is reported
// after timeoutMs, and the last set is kept; the next lookup still waits for it to settle, so hung
// lookups never pile up in libuv's small thread pool. Until the first answer, a failure is retried
// after at most a second rather than refreshMs: a cluster starts empty and every second counts.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Discovery } from './discovery.js';

export interface DnsDiscoveryConfig {
  readonly name: string;
  readonly port: number;
  readonly refreshMs: number;
  /** A lookup without an answer after this long is reported as failed (default 2000). */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 2_000;
/** The longest wait before retrying while no set has been found yet. */
const FIRST_ANSWER_RETRY_MS = 1_000;

type LookupOutcome = { ips: string[] } | { error: unknown };

export interface DnsDiscoveryOptions {
  /** Resolves a name to IP addresses; defaults to `dns.promises.lookup(name, { all: true })`. */
  readonly lookup?: (name: string) => Promise<string[]>;
  /** A failed or empty lookup (the last known set is kept). */
  readonly onError?: (err: unknown) => void;
}

const systemLookup = async (name: string): Promise<string[]> => (await dnsLookup(name, { all: true })).map((r) => r.address);

/** `host:port`, with an IPv6 host in brackets. */
export function formatAddress(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export class DnsDiscovery implements Discovery {
  readonly #config: DnsDiscoveryConfig;
  readonly #lookup: (name: string) => Promise<string[]>;
  readonly #onError: (err: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  /** Bumped by start and stop: a lookup finishing for an older run is ignored. */
  #run = 0;
  #running = false;
  /** The last reported set, joined, to report only changes. */
  #lastKey: string | undefined;

  constructor(config: DnsDiscoveryConfig, options: DnsDiscoveryOptions = {}) {
    if (!Number.isInteger(config.refreshMs) || config.refreshMs < 1) throw new RangeError(`refreshMs must be a positive integer, got ${config.refreshMs}`);
    const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RangeError(`timeoutMs must be a positive integer, got ${timeoutMs}`);
    this.#config = config;
    this.#lookup = options.lookup ?? systemLookup;
    this.#onError = options.onError ?? (() => {});
  }

  start(onChange: (addresses: readonly string[]) => void): void {
    if (this.#running) throw new Error(`DNS discovery of ${this.#config.name} is already started`);
    this.#running = true;
    const run = ++this.#run;
    this.#lastKey = undefined;
    void this.#refresh(run, onChange);
  }

  stop(): void {
    this.#running = false;
    this.#run++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A lookup settled, or undefined when it has not after timeoutMs (it keeps running). */
  async #lookupWithin(lookup: Promise<LookupOutcome>, timeoutMs: number): Promise<LookupOutcome | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([lookup, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One lookup, then the next one refreshMs after it settles: lookups never overlap. */
  async #refresh(run: number, onChange: (addresses: readonly string[]) => void): Promise<void> {
    const { name, port, refreshMs } = this.#config;
    const timeoutMs = this.#config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const lookup: Promise<LookupOutcome> = this.#lookup(name).then(
      (ips) => ({ ips }),
      (error: unknown) => ({ error }),
    );
    let outcome = await this.#lookupWithin(lookup, timeoutMs);
    if (outcome === undefined) {
      if (run !== this.#run) return;
      this.#onError(new Error(`DNS lookup of ${name} gave no answer within ${timeoutMs} ms`));
      outcome = await lookup;
    }
    let addresses: readonly string[] | undefined;
    let failure: unknown;
    if ('error' in outcome) failure = outcome.error;
    else if (outcome.ips.length === 0) failure = new Error(`DNS name ${name} resolved to no addresses`);
    else addresses = Object.freeze([...new Set(outcome.ips.map((ip) => formatAddress(ip, port)))].sort());
    if (run !== this.#run) return;
    const next = addresses === undefined && this.#lastKey === undefined ? Math.min(refreshMs, FIRST_ANSWER_RETRY_MS) : refreshMs;
    this.#timer = setTimeout(() => void this.#refresh(run, onChange), next);
    this.#timer.unref();
    if (addresses === undefined) {
      this.#onError(failure);
      return;
    }
    const key = addresses.join(',');
    if (key === this.#lastKey) return;
    this.#lastKey = key;
    onChange(addresses);
  }
}

// Endpoints from a DNS name re-resolved every refreshMs: in Kubernetes a headless Service, one A/AAAA
// record per ready pod. It resolves with the system resolver (getaddrinfo via dns.lookup, not raw DNS
// queries) so /etc/hosts and the pod's search domains apply exactly as they do for any other client.
//
// A failed lookup keeps the last known set and reports through onError. So does an empty answer
// (no records, NXDOMAIN-like): a Service whose pods are all unready, or a resolver hiccup, must not
// empty the cluster. Dropping the endpoints would fail requests the router is still finishing and
// hide the outage from health; keeping them lets active health checks mark them down and the model
// unready, which is the signal the operator and the load balancer in front of us act on.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Discovery } from './discovery.js';

export interface DnsDiscoveryConfig {
  readonly name: string;
  readonly port: number;
  readonly refreshMs: number;
}

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

  /** One lookup, then the next one refreshMs after it settles: lookups never overlap. */
  async #refresh(run: number, onChange: (addresses: readonly string[]) => void): Promise<void> {
    const { name, port, refreshMs } = this.#config;
    let addresses: readonly string[] | undefined;
    let failure: unknown;
    try {
      const ips = await this.#lookup(name);
      if (ips.length === 0) failure = new Error(`DNS name ${name} resolved to no addresses`);
      else addresses = Object.freeze([...new Set(ips.map((ip) => formatAddress(ip, port)))].sort());
    } catch (err) {
      failure = err;
    }
    if (run !== this.#run) return;
    this.#timer = setTimeout(() => void this.#refresh(run, onChange), refreshMs);
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

// The batchers of one router, created on a route's first batched request: one per (cluster object,
// route, upstream model, upstream version). Keyed weakly by the cluster object, so a hot reload
// that builds a new cluster starts fresh batchers, and the old ones go with the old fleet once
// their last batch is answered; a reload's new batching settings (a new config object) replace the
// batcher of a cluster carried over unchanged. Counters per client-facing model add up across reloads.
import type { BatchingConfig, RetryConfig } from '../config/schema.js';
import type { Telemetry } from '../telemetry/request-telemetry.js';
import type { BatchClock } from './batch-clock.js';
import { BatchCounters, type BatchingStats } from './batch-counters.js';
import { fanOutObserver, type BatchObserver } from './batch-observer.js';
import type { BatchUpstream, UpstreamModelRef } from './batch-upstream.js';
import { Batcher } from './batcher.js';

/** The parts of a route a batcher needs. */
export interface BatchedRoute {
  readonly model: string;
  readonly batching: BatchingConfig;
  readonly retry: RetryConfig;
}

export interface BatcherRegistryOptions {
  /** Telemetry hooks per client-facing model (called once per new batcher). */
  readonly observer?: (model: string) => BatchObserver;
  /** Opens the telemetry of each merged batch. */
  readonly telemetry?: Pick<Telemetry, 'batch'>;
  readonly clock?: BatchClock;
}

export class BatcherRegistry {
  readonly #byUpstream = new WeakMap<BatchUpstream, Map<string, Batcher>>();
  readonly #models = new Map<string, BatchCounters>();
  readonly #options: BatcherRegistryOptions;

  constructor(options: BatcherRegistryOptions = {}) {
    this.#options = options;
  }

  batcherFor(upstream: BatchUpstream, route: BatchedRoute, target: UpstreamModelRef): Batcher {
    let batchers = this.#byUpstream.get(upstream);
    if (batchers === undefined) {
      batchers = new Map();
      this.#byUpstream.set(upstream, batchers);
    }
    // Two models aliasing one upstream model batch apart: each has its own settings and deadlines.
    const key = `${route.model}\u0000${target.name}\u0000${target.version}`;
    let batcher = batchers.get(key);
    if (batcher === undefined || batcher.config !== route.batching) {
      const observers = [this.#countersOf(route.model).child()];
      if (this.#options.observer !== undefined) observers.push(this.#options.observer(route.model));
      batcher = new Batcher({
        model: route.model,
        upstream,
        target,
        config: route.batching,
        retry: route.retry,
        observer: fanOutObserver(observers),
        ...(this.#options.telemetry === undefined ? {} : { telemetry: this.#options.telemetry }),
        ...(this.#options.clock === undefined ? {} : { clock: this.#options.clock }),
      });
      batchers.set(key, batcher);
    }
    return batcher;
  }

  /** Requests queued (not yet sent) in the batchers of these upstreams: a retiring fleet waits for them. */
  queuedFor(upstreams: Iterable<BatchUpstream>): number {
    let n = 0;
    for (const upstream of upstreams) for (const batcher of this.#byUpstream.get(upstream)?.values() ?? []) n += batcher.queued;
    return n;
  }

  /** Cumulative counters of each of `models` (zeros before its first batched request). */
  stats(models: readonly string[]): Record<string, BatchingStats> {
    return Object.fromEntries(models.map((m) => [m, this.#countersOf(m).snapshot()]));
  }

  #countersOf(model: string): BatchCounters {
    let counters = this.#models.get(model);
    if (counters === undefined) {
      counters = new BatchCounters();
      this.#models.set(model, counters);
    }
    return counters;
  }
}

// A named set of endpoints of one backend kind. The cluster owns what is per endpoint: who is in it
// (discovery), who is fit (active health checks, passive outlier ejection, circuit breaker), how
// busy each is (in-flight accounting), which one serves a request (the picker), and retries on
// another endpoint — only before the first result, within the retry budget.
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { Backend, ModelRef } from '../backends/backend.js';
import type { CallContext } from '../core/call-context.js';
import type { Endpoint } from '../core/endpoint.js';
import { asSwitchyardError, SwitchyardError } from '../core/errors.js';
import type { LlmRequest, LlmResult, LlmUpstream } from '../core/llm.js';
import type { ClusterConfig, RetryConfig } from '../config/schema.js';
import type { ModelInferRequest } from '../generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../generated/inference/ModelInferResponse.js';
import type { ModelMetadataResponse__Output } from '../generated/inference/ModelMetadataResponse.js';
import type { ModelConfigResponse__Output } from '../generated/inference/ModelConfigResponse.js';
import type { ModelStatisticsResponse__Output } from '../generated/inference/ModelStatisticsResponse.js';
import type { ModelStreamInferResponse__Output } from '../generated/inference/ModelStreamInferResponse.js';
import { backoffMs } from '../resilience/backoff.js';
import { OutlierDetector } from '../resilience/outlier-detector.js';
import { RetryBudget } from '../resilience/retry-budget.js';
import { blamesEndpoint, isRetryable } from '../resilience/retryable.js';
import { NO_CLUSTER_TELEMETRY, type ClusterTelemetry } from '../telemetry/cluster-telemetry.js';
import { DnsDiscovery } from './discovery/dns-discovery.js';
import { StaticDiscovery } from './discovery/static-discovery.js';
import type { Discovery } from './discovery/discovery.js';
import { HealthChecker } from './health-checker.js';
import { createPicker } from './scheduler/create-picker.js';
import type { EndpointLoad, Picker } from './scheduler/picker.js';

/** Control calls (metadata, readiness) get a short deadline of their own: they must not hang a probe. */
const CONTROL_TIMEOUT_MS = 2_000;

/** One endpoint's live state. Requests keep their entry after a discovery change removes it, so they finish. */
interface EndpointEntry {
  readonly endpoint: Endpoint;
  inFlight: number;
}

interface Waiter {
  readonly wake: () => void;
}

export class Cluster {
  readonly name: string;
  readonly backend: Backend;
  readonly #config: ClusterConfig;
  readonly #logger: FastifyBaseLogger;
  readonly #telemetry: ClusterTelemetry;
  readonly #entries = new Map<string, EndpointEntry>();
  readonly #picker: Picker;
  readonly #discovery: Discovery;
  readonly #health: HealthChecker;
  readonly #outliers: OutlierDetector;
  /** One retry budget per route using this cluster (keyed by the route's frozen retry policy). */
  readonly #budgets = new WeakMap<RetryConfig, RetryBudget>();
  readonly #waiting: Waiter[] = [];
  /** Requests between their start and their first result (waiting for a slot, attempting, backing off). */
  #starting = 0;
  /** Answers still being consumed (streams, relayed bodies) after their first result. */
  #streaming = 0;

  constructor(name: string, config: ClusterConfig, backend: Backend, logger: FastifyBaseLogger, telemetry: ClusterTelemetry = NO_CLUSTER_TELEMETRY) {
    this.name = name;
    this.backend = backend;
    this.#config = config;
    this.#logger = logger;
    this.#telemetry = telemetry;
    this.#picker = createPicker(config.picker);
    this.#outliers = new OutlierDetector(config.outlierDetection);
    this.#discovery =
      config.discovery !== undefined
        ? new DnsDiscovery(config.discovery.dns, { onError: (err) => logger.warn({ err, event: 'discovery-failed' }, `DNS discovery for cluster ${name} failed; keeping the last endpoints`) })
        : new StaticDiscovery(config.endpoints ?? []);
    this.#health = new HealthChecker(
      config.healthCheck,
      (endpoint, signal, deadline) => backend.serverReady(endpoint, { requestId: `health-${name}`, deadline, signal }),
      (address, healthy) => {
        logger.warn({ event: healthy ? 'endpoint-healthy' : 'endpoint-unhealthy', endpoint: address }, `endpoint ${address} is ${healthy ? 'healthy again' : 'failing health checks'}`);
        // Checks passing again is better evidence than an ejection timer still running.
        if (healthy) this.#outliers.forget(address);
        this.#wakeOne();
      },
    );
  }

  /** Starts discovery and health checking. */
  start(): void {
    this.#discovery.start((addresses) => this.#setEndpoints(addresses));
  }

  /** Stops discovery and health checking; requests waiting for an endpoint fail. */
  close(): void {
    this.#discovery.stop();
    this.#health.stop();
    for (const waiter of this.#waiting.splice(0)) waiter.wake();
  }

  get endpoints(): readonly Endpoint[] {
    return [...this.#entries.values()].map((e) => e.endpoint);
  }

  /**
   * Requests that still depend on this cluster: starting (queued behind the breaker, attempting,
   * backing off between retries) or streaming. A retired fleet is closed only when this is 0.
   */
  get inFlightTotal(): number {
    return this.#starting + this.#streaming;
  }

  inFlight(address: string): number {
    return this.#entries.get(address)?.inFlight ?? 0;
  }

  /** For /readyz and logs: each endpoint's state. */
  snapshot(): Record<string, { inFlight: number; healthy: boolean; ejected: boolean }> {
    return Object.fromEntries(
      [...this.#entries.values()].map((e) => [
        e.endpoint.address,
        { inFlight: e.inFlight, healthy: this.#health.isHealthy(e.endpoint.address), ejected: this.#outliers.isEjected(e.endpoint.address) },
      ]),
    );
  }

  infer(request: ModelInferRequest, ctx: CallContext, retry: RetryConfig): Promise<ModelInferResponse__Output> {
    return this.#withRetries(retry, ctx, async (entry, attemptCtx) => {
      try {
        return await this.backend.infer(entry.endpoint, request, attemptCtx);
      } finally {
        this.#release(entry);
      }
    });
  }

  /**
   * One generation. The endpoint stays counted as busy until the answer has been consumed (events
   * iterated to the end, or the relayed body closed), not merely until the first result; retries
   * happen only before the first result, i.e. before any byte went to the client.
   */
  generate(request: LlmRequest, upstream: LlmUpstream, ctx: CallContext, retry: RetryConfig): Promise<LlmResult> {
    return this.#withRetries(retry, ctx, async (entry, attemptCtx) => {
      let result: LlmResult;
      try {
        result = await this.backend.generate(entry.endpoint, request, upstream, attemptCtx);
      } catch (err) {
        this.#release(entry);
        throw err;
      }
      const finish = this.#holdUntilConsumed(entry, ctx);
      if (result.kind === 'relay') {
        result.body.once('close', finish);
        return result;
      }
      return { kind: 'events', events: finishing(result.events, finish) };
    });
  }

  /**
   * One V2 request on its own upstream stream, responses passed through. As generate: retried only
   * before the first response, and the endpoint stays busy until the responses are consumed.
   */
  streamInfer(request: ModelInferRequest, ctx: CallContext, retry: RetryConfig): Promise<AsyncIterable<ModelStreamInferResponse__Output>> {
    return this.#withRetries(retry, ctx, async (entry, attemptCtx) => {
      let responses: AsyncIterable<ModelStreamInferResponse__Output>;
      try {
        responses = await this.backend.streamInfer(entry.endpoint, request, attemptCtx);
      } catch (err) {
        this.#release(entry);
        throw err;
      }
      return finishing(responses, this.#holdUntilConsumed(entry, ctx));
    });
  }

  /**
   * Counts an answer as streaming until the returned function is called; it releases the endpoint
   * exactly once: when the answer is consumed, or when the client leaves (an iterator that was
   * never started does not run its cleanup when it is closed).
   */
  #holdUntilConsumed(entry: EndpointEntry, ctx: CallContext): () => void {
    this.#streaming++;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      ctx.signal.removeEventListener('abort', finish);
      this.#streaming--;
      this.#release(entry);
    };
    ctx.signal.addEventListener('abort', finish, { once: true });
    return finish;
  }

  /** True when any fit endpoint (healthy, not ejected) reports the model ready. */
  async modelReady(model: ModelRef, ctx: CallContext): Promise<boolean> {
    const fit = [...this.#entries.values()].filter((e) => this.#isFit(e.endpoint.address));
    const answers = await Promise.allSettled(fit.map((e) => this.backend.modelReady(e.endpoint, model, controlContext(ctx))));
    return answers.some((a) => a.status === 'fulfilled' && a.value);
  }

  modelMetadata(model: ModelRef, ctx: CallContext): Promise<ModelMetadataResponse__Output> {
    return this.#firstAnswer((ep) => this.backend.modelMetadata(ep, model, controlContext(ctx)));
  }

  modelConfig(model: ModelRef, ctx: CallContext): Promise<ModelConfigResponse__Output> {
    return this.#firstAnswer((ep) => this.backend.modelConfig(ep, model, controlContext(ctx)));
  }

  modelStatistics(model: ModelRef, ctx: CallContext): Promise<ModelStatisticsResponse__Output> {
    return this.#firstAnswer((ep) => this.backend.modelStatistics(ep, model, controlContext(ctx)));
  }

  /**
   * Runs `attempt` on a picked endpoint (the attempt releases the endpoint itself), and again on
   * another endpoint when the failure is retryable, retries remain, the budget allows and the
   * deadline has room. A per-try timeout abandons a hung endpoint in time to try another.
   */
  async #withRetries<T>(retry: RetryConfig, ctx: CallContext, attempt: (entry: EndpointEntry, attemptCtx: CallContext) => Promise<T>): Promise<T> {
    let budget = this.#budgets.get(retry);
    if (budget === undefined) {
      budget = new RetryBudget(retry);
      this.#budgets.set(retry, budget);
    }
    const requestDone = budget.request();
    this.#starting++;
    const tried = new Set<string>();
    let releaseRetry: (() => void) | undefined;
    try {
      for (let retries = 0; ; retries++) {
        const entry = await this.#acquire(ctx, tried);
        const address = entry.endpoint.address;
        tried.add(address);
        if (ctx.report !== undefined) {
          ctx.report.endpoint = address;
          ctx.report.attempts = retries + 1;
        }
        const perTry = new PerTryTimer(ctx, retry.perTryTimeoutMs);
        // The request's attempt (its trace span, its upstream time); a merged batch's context
        // carries the batch's instead, and keeps it.
        const traced = ctx.telemetry?.attempt({ cluster: this.name, endpoint: address, retry: retries });
        const attemptCtx = traced === undefined ? perTry.ctx : { ...perTry.ctx, attempt: traced };
        const started = performance.now();
        try {
          const result = await attempt(entry, attemptCtx);
          this.#telemetry.attempt(address, (performance.now() - started) / 1000, undefined);
          traced?.end();
          this.#outliers.success(address);
          return result;
        } catch (thrown) {
          const err = perTry.fired ? perTry.timeoutError(address, thrown) : thrown;
          this.#telemetry.attempt(address, (performance.now() - started) / 1000, asSwitchyardError(err).canonical);
          traced?.end(err);
          if (blamesEndpoint(err, { perTryTimedOut: perTry.fired }) && this.#outliers.failure(address, this.#entries.size)) {
            this.#telemetry.ejected(address);
            this.#logger.warn({ event: 'endpoint-ejected', endpoint: address, err: asSwitchyardError(err).message }, `endpoint ${address} ejected after consecutive failures`);
          }
          const canRetry =
            retries < retry.maxRetries &&
            isRetryable(err, { perTryTimedOut: perTry.fired }) &&
            !ctx.signal.aborted &&
            this.#hasCandidate(tried);
          if (!canRetry) throw err;
          releaseRetry?.();
          releaseRetry = budget.tryRetry();
          if (releaseRetry === undefined) {
            this.#telemetry.retryDenied();
            throw err;
          }
          this.#telemetry.retry();
          this.#logger.info({ event: 'retry', endpoint: address, retry: retries + 1, err: asSwitchyardError(err).message }, `retrying on another endpoint of ${this.name}`);
          await sleep(backoffMs(retries + 1, retry.backoffBaseMs, retry.backoffMaxMs), ctx);
        } finally {
          perTry.clear();
        }
      }
    } finally {
      releaseRetry?.();
      requestDone();
      this.#starting--;
    }
  }

  /** Picks and claims an endpoint, waiting (up to maxPending requests) while all fit ones are at the breaker limit. */
  async #acquire(ctx: CallContext, exclude: ReadonlySet<string>): Promise<EndpointEntry> {
    for (;;) {
      if (this.#entries.size === 0) {
        throw new SwitchyardError('SWY_ERR_CLUSTER_NO_ENDPOINT', `cluster "${this.name}" has no endpoints`);
      }
      const candidates = this.#candidates(exclude);
      if (candidates.length > 0) {
        const picked = this.#picker.pick(candidates, ctx.facts);
        const entry = picked === undefined ? undefined : this.#entries.get(picked.endpoint.address);
        if (entry !== undefined) {
          entry.inFlight++;
          return entry;
        }
      }
      if (!this.#hasCandidate(exclude, false)) {
        throw new SwitchyardError('SWY_ERR_CLUSTER_NO_ENDPOINT', `cluster "${this.name}" has no endpoint left to try`);
      }
      // Every usable endpoint is at circuitBreaker.maxInFlightPerEndpoint: wait in line, bounded.
      if (this.#waiting.length >= this.#config.circuitBreaker.maxPending) {
        this.#telemetry.overloaded();
        throw new SwitchyardError(
          'SWY_ERR_CLUSTER_OVERLOADED',
          `cluster "${this.name}" is at its limit (${this.#config.circuitBreaker.maxInFlightPerEndpoint} in flight per endpoint, ${this.#config.circuitBreaker.maxPending} waiting)`,
          { retryAfterS: 1 },
        );
      }
      await this.#waitForSlot(ctx);
    }
  }

  #release(entry: EndpointEntry): void {
    entry.inFlight--;
    this.#wakeOne();
  }

  #wakeOne(): void {
    this.#waiting.shift()?.wake();
  }

  #waitForSlot(ctx: CallContext): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new SwitchyardError('SWY_ERR_UPSTREAM_DEADLINE', `no endpoint of cluster "${this.name}" became free before the deadline`)), Math.max(0, ctx.deadline - Date.now()));
      const onAbort = (): void => done(new SwitchyardError('SWY_ERR_REQUEST_CANCELLED', 'request cancelled by the client'));
      const waiter: Waiter = { wake: () => done() };
      const done = (err?: SwitchyardError): void => {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        const at = this.#waiting.indexOf(waiter);
        if (at !== -1) this.#waiting.splice(at, 1);
        if (err === undefined) resolve();
        else reject(err);
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /**
   * Fit endpoints (healthy and not ejected) under the breaker limit and not yet tried. When no
   * endpoint at all is fit, all of them are used ("panic mode", as Envoy): better to try a
   * possibly-down endpoint than to blackhole the whole cluster on a health-check misjudgement.
   */
  #candidates(exclude: ReadonlySet<string>): EndpointLoad[] {
    const max = this.#config.circuitBreaker.maxInFlightPerEndpoint;
    const all = [...this.#entries.values()];
    const fit = all.filter((e) => this.#isFit(e.endpoint.address));
    return (fit.length > 0 ? fit : all).filter((e) => e.inFlight < max && !exclude.has(e.endpoint.address));
  }

  /** An endpoint not yet tried exists (ignoring the breaker when `loadAware` is false). */
  #hasCandidate(exclude: ReadonlySet<string>, loadAware = false): boolean {
    const all = [...this.#entries.values()];
    const fit = all.filter((e) => this.#isFit(e.endpoint.address));
    const max = loadAware ? this.#config.circuitBreaker.maxInFlightPerEndpoint : Infinity;
    return (fit.length > 0 ? fit : all).some((e) => e.inFlight < max && !exclude.has(e.endpoint.address));
  }

  #isFit(address: string): boolean {
    return this.#health.isHealthy(address) && !this.#outliers.isEjected(address);
  }

  #setEndpoints(addresses: readonly string[]): void {
    const next = new Set(addresses);
    for (const [address] of this.#entries) {
      if (next.has(address)) continue;
      // Gone from discovery: no new requests; those in flight keep their entry and finish.
      this.#entries.delete(address);
      this.#health.remove(address);
      this.#outliers.forget(address);
    }
    for (const address of next) {
      if (this.#entries.has(address)) continue;
      const endpoint = Object.freeze({ address, cluster: this.name });
      this.#entries.set(address, { endpoint, inFlight: 0 });
      this.#health.add(endpoint);
    }
    this.#logger.info({ event: 'endpoints', endpoints: [...this.#entries.keys()] }, `cluster ${this.name}: ${this.#entries.size} endpoint(s)`);
    this.#wakeOne();
  }

  /**
   * Read-only control calls are safe to repeat, so they fail over across endpoints (fit ones
   * first) until one answers; an upstream judgement (e.g. NOT_FOUND) is returned as is.
   */
  async #firstAnswer<T>(call: (ep: Endpoint) => Promise<T>): Promise<T> {
    let lastError: unknown = new SwitchyardError('SWY_ERR_CLUSTER_NO_ENDPOINT', `cluster "${this.name}" has no endpoints`);
    const ordered = [...this.#entries.values()].sort(
      (a, b) => Number(this.#isFit(b.endpoint.address)) - Number(this.#isFit(a.endpoint.address)) || a.inFlight - b.inFlight,
    );
    for (const entry of ordered) {
      try {
        return await call(entry.endpoint);
      } catch (err) {
        lastError = err;
        const transport = err instanceof SwitchyardError && (err.code === 'SWY_ERR_UPSTREAM_UNAVAILABLE' || err.code === 'SWY_ERR_UPSTREAM_DEADLINE');
        if (!transport) throw err;
      }
    }
    throw lastError;
  }
}

/**
 * One attempt's context: the request's, plus an abort of its own after perTryTimeoutMs (0 = none).
 * Only the wait for the first result is timed; a stream that has started runs to the request deadline.
 */
class PerTryTimer {
  readonly ctx: CallContext;
  #fired = false;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #timeoutMs: number;

  constructor(parent: CallContext, timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    if (timeoutMs <= 0 || parent.deadline - Date.now() <= timeoutMs) {
      this.ctx = parent;
      this.#timer = undefined;
      return;
    }
    const controller = new AbortController();
    // Linked for the attempt's whole life: a stream that outlives the timer must still stop when the client leaves.
    parent.signal.addEventListener('abort', () => controller.abort(), { once: true });
    this.#timer = setTimeout(() => {
      this.#fired = true;
      controller.abort();
    }, timeoutMs);
    this.ctx = { ...parent, signal: controller.signal };
  }

  get fired(): boolean {
    return this.#fired;
  }

  timeoutError(address: string, cause: unknown): SwitchyardError {
    return new SwitchyardError('SWY_ERR_UPSTREAM_DEADLINE', `endpoint ${address} did not answer within retry.perTryTimeoutMs (${this.#timeoutMs} ms)`, { cause });
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}

async function* finishing<T>(items: AsyncIterable<T>, finish: () => void): AsyncGenerator<T> {
  try {
    yield* items;
  } finally {
    finish();
  }
}

function controlContext(ctx: CallContext): CallContext {
  return { ...ctx, deadline: Math.min(ctx.deadline, Date.now() + CONTROL_TIMEOUT_MS) };
}

function sleep(ms: number, ctx: CallContext): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.min(ms, Math.max(0, ctx.deadline - Date.now())));
    function done(): void {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', done);
      resolve();
    }
    ctx.signal.addEventListener('abort', done, { once: true });
  });
}

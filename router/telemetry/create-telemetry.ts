// The Telemetry behind the seam: every request's hooks go to the metrics sink, to the trace sink
// when tracing is on, and at the end to the access log. The trace sink supplies the trace id and the
// context backends inject; metrics and the access log never need either. Tenant accounting (requests,
// charged tokens and cost per tenant and model) rides on the same request.
import { performance } from 'node:perf_hooks';
import { asSwitchyardError, SwitchyardError } from '../core/errors.js';
import { writeAccessLog, type AccessLogger } from './access-log.js';
import { statusClass, type Metrics } from './metrics.js';
import { effectiveStatus, RequestMetrics, type RequestOutcome } from './request-metrics.js';
import type { AttemptInfo, AttemptTelemetry, BatchTelemetry, ListenerName, RequestTelemetry, Telemetry } from './request-telemetry.js';

export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What a trace sink offers (router/telemetry/tracing.ts's Tracing is one). */
export interface TracingSink {
  request(listener: ListenerName, headers: RequestHeaders, operation?: string): RequestTelemetry;
  /** `members` are request telemetries this sink returned. */
  batch(model: string, members: readonly RequestTelemetry[]): BatchTelemetry;
}

/** Facts only the listener knows, for the access log and span names. */
export interface RequestInfo {
  readonly requestId: string;
  /** Filled in by routing (the call context's report): the last endpoint tried and the attempt count. */
  readonly report?: { readonly endpoint?: string | undefined; readonly attempts?: number | undefined };
  /** The span name: `POST /v1/chat/completions`, `inference.GRPCInferenceService/ModelInfer`… */
  readonly operation?: string;
}

/** What a tenant is charged for one request (admission settles it when the response ends). */
export interface TenantCharge {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Undefined when the tenant has no price. */
  readonly costUsd: number | undefined;
}

/** A request's telemetry as its listener holds it. */
export interface ServedRequestTelemetry extends RequestTelemetry {
  /** The model the client asked for, once parsed: labels a request that fails before routing. */
  requested(model: string): void;
  /** The tenant its API key belongs to (never the key); requests without one count as `_anonymous`. */
  tenant(name: string): void;
  /** What the tenant is charged, once, before end(): tenant token and cost counters, `costUsd` in the access log. */
  charge(charge: TenantCharge): void;
}

export interface RouterTelemetry extends Telemetry {
  request(listener: ListenerName, headers: RequestHeaders, info?: RequestInfo): ServedRequestTelemetry;
}

export interface TelemetryOptions {
  readonly metrics: Metrics;
  readonly logger: AccessLogger;
  /** One info line per finished request (telemetry.accessLog); read per request. */
  readonly accessLog: boolean;
  /** The trace sink, when tracing is on. */
  readonly tracing?: TracingSink | undefined;
}

const NO_INJECT = (): void => {};

export function createTelemetry(options: TelemetryOptions): RouterTelemetry {
  const { metrics, tracing } = options;
  return {
    request(listener, headers, info) {
      const traced = tracing?.request(listener, headers, info?.operation);
      // Read per request: `accessLog` may be a getter that a config reload changes.
      return new ObservedRequest(metrics, listener, new RequestMetrics(metrics, listener), traced, options.accessLog ? options.logger : undefined, info);
    },
    batch(model, members) {
      const started = performance.now();
      const observed = members.filter((m): m is ObservedRequest => m instanceof ObservedRequest);
      const tracedMembers = observed.flatMap((m) => (m.traced === undefined ? [] : [m.traced]));
      const traced = tracing?.batch(model, tracedMembers);
      let ended = false;
      return {
        inject: traced === undefined ? NO_INJECT : (set) => traced.inject(set),
        end(error?: unknown) {
          if (ended) return;
          ended = true;
          // The batch's time upstream is each member's time upstream (the router overhead excludes it).
          const ms = performance.now() - started;
          for (const member of observed) member.metrics.addUpstreamMs(ms);
          traced?.end(error);
        },
      };
    },
  };
}

/** For routers built without telemetry (tests, tools): every hook does nothing. */
export const NO_TELEMETRY: RouterTelemetry = {
  request: () => NO_REQUEST_TELEMETRY,
  batch: () => ({ inject: NO_INJECT, end: () => {} }),
};

const NO_ATTEMPT: AttemptTelemetry = { inject: NO_INJECT, end: () => {} };

const NO_REQUEST_TELEMETRY: ServedRequestTelemetry = {
  traceId: undefined,
  requested: () => {},
  tenant: () => {},
  charge: () => {},
  routed: () => {},
  attempt: () => NO_ATTEMPT,
  firstToken: () => {},
  token: () => {},
  usage: () => {},
  end: () => {},
};

class ObservedRequest implements ServedRequestTelemetry {
  readonly metrics: RequestMetrics;
  readonly traced: RequestTelemetry | undefined;
  readonly #listener: ListenerName;
  readonly #logger: AccessLogger | undefined;
  readonly #info: RequestInfo | undefined;
  readonly #sink: Metrics;
  #tenant: string | undefined;
  #charge: TenantCharge | undefined;
  #ended = false;

  constructor(sink: Metrics, listener: ListenerName, metrics: RequestMetrics, traced: RequestTelemetry | undefined, logger: AccessLogger | undefined, info: RequestInfo | undefined) {
    this.#sink = sink;
    this.#listener = listener;
    this.metrics = metrics;
    this.traced = traced;
    this.#logger = logger;
    this.#info = info;
  }

  get traceId(): string | undefined {
    return this.traced?.traceId;
  }

  requested(model: string): void {
    this.metrics.requested(model);
  }

  tenant(name: string): void {
    this.#tenant = name;
  }

  charge(charge: TenantCharge): void {
    if (this.#charge !== undefined || this.#ended) return;
    this.#charge = charge;
    const series = this.#tenantSeries();
    if (charge.promptTokens > 0) series.promptTokens.inc(charge.promptTokens);
    if (charge.completionTokens > 0) series.completionTokens.inc(charge.completionTokens);
    if (charge.costUsd !== undefined) series.cost.inc(charge.costUsd);
  }

  #tenantSeries() {
    return this.#sink.tenant(this.#sink.tenantLabel(this.#tenant), this.#sink.modelLabel(this.metrics.model));
  }

  routed(model: string, variant: string): void {
    this.metrics.routed(model, variant);
    this.traced?.routed(model, variant);
  }

  attempt(info: AttemptInfo): AttemptTelemetry {
    const timed = this.metrics.attempt(info);
    const traced = this.traced?.attempt(info);
    if (traced === undefined) return timed;
    return {
      inject: (set) => traced.inject(set),
      end: (error?: unknown) => {
        timed.end(error);
        traced.end(error);
      },
    };
  }

  firstToken(): void {
    this.metrics.firstToken();
    this.traced?.firstToken();
  }

  token(): void {
    this.metrics.token();
    this.traced?.token();
  }

  usage(promptTokens: number, completionTokens: number): void {
    this.metrics.usage(promptTokens, completionTokens);
    this.traced?.usage(promptTokens, completionTokens);
  }

  end(outcome: RequestOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.metrics.end(outcome);
    this.traced?.end(outcome);
    this.#tenantSeries().requests(statusClass(effectiveStatus(outcome))).inc();
    // Counted with the router's other refusals (rejected_requests_total{reason}).
    if (outcome.error instanceof SwitchyardError && outcome.error.code === 'SWY_ERR_ADMIT_RATE_LIMITED') this.#sink.rejected('rate_limited');
    if (this.#logger === undefined) return;
    const report = this.#info?.report;
    writeAccessLog(this.#logger, {
      requestId: this.#info?.requestId ?? '',
      traceId: this.traceId,
      listener: this.#listener,
      model: this.metrics.model,
      variant: this.metrics.variant,
      endpoint: report?.endpoint,
      attempts: report?.attempts,
      status: outcome.status,
      durationMs: this.metrics.durationMs ?? 0,
      code: outcome.error === undefined ? undefined : asSwitchyardError(outcome.error).code,
      tenant: this.#tenant,
      costUsd: this.#charge?.costUsd,
    });
  }
}

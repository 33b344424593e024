// What a cluster reports about its endpoints, whichever request (client, mirror, batch) caused it:
// every upstream attempt, retries and retries the budget refused, ejections, breaker rejections.
// Implemented by Metrics; the cluster calls it synchronously, so it must be cheap and never throw.

export interface ClusterTelemetry {
  /** One upstream attempt ended: at its answer or first result (`code` undefined), or failed with canonical `code`. */
  attempt(endpoint: string, seconds: number, code: string | undefined): void;
  /** A retry on another endpoint was started. */
  retry(): void;
  /** A retry was wanted but the route's retry budget refused it. */
  retryDenied(): void;
  /** The outlier detector ejected `endpoint`. */
  ejected(endpoint: string): void;
  /** A request was refused with SWY_ERR_CLUSTER_OVERLOADED (every endpoint at its limit, the wait queue full). */
  overloaded(): void;
}

export const NO_CLUSTER_TELEMETRY: ClusterTelemetry = {
  attempt: () => {},
  retry: () => {},
  retryDenied: () => {},
  ejected: () => {},
  overloaded: () => {},
};

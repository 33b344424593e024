// Log ↔ trace correlation: while a traced request is being served, every log line the process
// writes (listener, routing, cluster retries and ejections) carries its `traceId`. The request's
// telemetry is kept in an AsyncLocalStorage; the root logger's pino `mixin` reads it. Untraced
// requests never enter the storage, so with tracing off this costs nothing.
import { AsyncLocalStorage } from 'node:async_hooks';

interface Traced {
  readonly traceId: string | undefined;
}

const current = new AsyncLocalStorage<Traced>();

/** Runs `fn` (and everything it starts) with `telemetry`'s trace id on its log lines. */
export function withTraceLogs<T>(telemetry: Traced, fn: () => T): T {
  return telemetry.traceId === undefined ? fn() : current.run(telemetry, fn);
}

/** pino `mixin`: adds `traceId` unless the line has one of its own. */
export function traceLogMixin(mergeObject: object): object {
  const traceId = current.getStore()?.traceId;
  return traceId === undefined || 'traceId' in mergeObject ? {} : { traceId };
}

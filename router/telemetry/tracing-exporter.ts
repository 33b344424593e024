// Where finished spans go: OTLP over HTTP/JSON or gRPC, which Jaeger (v1.35+ and v2) ingests natively
// on 4318/4317. The old `jaeger` exporter (thrift over UDP/HTTP) is deprecated upstream, brings
// a second copy of the OTel SDK and ~15 thrift packages, and is not installed: it is loaded only
// if someone installs it on purpose. Export failures are logged, at most once a minute.
import { createRequire } from 'node:module';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpHttpExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config/schema.js';
import { SwitchyardError } from '../core/errors.js';

export const DEFAULT_OTLP_HTTP_ENDPOINT = 'http://localhost:4318/v1/traces';
export const DEFAULT_OTLP_GRPC_ENDPOINT = 'http://localhost:4317';
const JAEGER_PACKAGE = '@opentelemetry/exporter-jaeger';
/** One export may not hold shutdown (and so the router's drain) longer than this. */
const EXPORT_TIMEOUT_MS = 5_000;
const WARN_EVERY_MS = 60_000;

export interface TracingLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export type ExporterSettings = Pick<TracingConfig, 'exporter' | 'endpoint'>;

/** The endpoint spans are sent to (the config's, else the exporter's default). */
export function exporterEndpoint(settings: ExporterSettings): string {
  if (settings.endpoint !== undefined) return settings.endpoint;
  if (settings.exporter === 'otlp-grpc') return DEFAULT_OTLP_GRPC_ENDPOINT;
  if (settings.exporter === 'jaeger') return 'udp://localhost:6832 (jaeger agent)';
  return DEFAULT_OTLP_HTTP_ENDPOINT;
}

/** The exporter the config names; `jaeger` without its optional package fails with SWY_ERR_CFG_INVALID. */
export function createSpanExporter(settings: ExporterSettings): SpanExporter {
  switch (settings.exporter) {
    case 'otlp-http':
      return new OtlpHttpExporter({ url: exporterEndpoint(settings), timeoutMillis: EXPORT_TIMEOUT_MS });
    case 'otlp-grpc':
      return new OtlpGrpcExporter({ url: exporterEndpoint(settings), timeoutMillis: EXPORT_TIMEOUT_MS });
    case 'jaeger':
      return loadJaegerExporter(settings.endpoint);
  }
}

interface JaegerModule {
  JaegerExporter: new (config: { endpoint?: string }) => SpanExporter;
}

// Loaded synchronously (the package is CommonJS) so that a missing package fails the start, not the first export.
function loadJaegerExporter(endpoint: string | undefined): SpanExporter {
  let mod: JaegerModule;
  try {
    mod = createRequire(import.meta.url)(JAEGER_PACKAGE) as JaegerModule;
  } catch (err) {
    throw new SwitchyardError(
      'SWY_ERR_CFG_INVALID',
      `telemetry.tracing.exporter 'jaeger' needs the optional package ${JAEGER_PACKAGE} (deprecated upstream); use otlp-http — Jaeger ingests OTLP on 4318`,
      { cause: err },
    );
  }
  return new mod.JaegerExporter(endpoint === undefined ? {} : { endpoint });
}

/** `exporter`, logging failed exports (throttled) instead of dropping them silently. */
export function warnOnExportFailure(exporter: SpanExporter, logger: TracingLogger, endpoint: string): SpanExporter {
  let lastWarn = -Infinity;
  let failedSince = 0;
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
      exporter.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          failedSince += spans.length;
          const now = Date.now();
          if (now - lastWarn >= WARN_EVERY_MS) {
            lastWarn = now;
            logger.warn(
              { event: 'trace-export-failed', endpoint, droppedSpans: failedSince, err: result.error?.message },
              `could not export spans to ${endpoint}; they are dropped`,
            );
            failedSince = 0;
          }
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

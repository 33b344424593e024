// The unary RPCs of inference.GRPCInferenceService: health, metadata, config, statistics,
// repository index and ModelInfer. ModelStreamInfer lives in stream-infer-handler.ts.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { GRPCInferenceServiceHandlers } from '../../router/generated/inference/GRPCInferenceService.js';
import type { ModelInferResponse } from '../../router/generated/inference/ModelInferResponse.js';
import type { InferenceEngine } from './inference-engine.js';
import type { ModelRepository } from './model-repository.js';
import { MODEL_VERSION, modelConfig, modelMetadata } from './model-spec.js';
import { asRuntimeError, RuntimeError } from './runtime-error.js';
import { metadataCarrier, rpcAttributes, type RuntimeTracing } from './runtime-tracing.js';
import type { ServerReadiness } from './server-readiness.js';
import type { StreamInferHandler } from './stream-infer-handler.js';

export const SERVER_NAME = 'switchyard-dev-runtime';
export const SERVER_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** Only the protocol extensions this runtime implements. */
export const SERVER_EXTENSIONS = ['model_configuration', 'statistics', 'parameters'];

/** A unary handler from an async function; every failure becomes a proper gRPC status. */
function unary<Req, Res>(
  fn: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        (response) => callback(null, response),
        (err: unknown) => {
          const error = asRuntimeError(err);
          callback({ code: error.code, details: error.message });
        },
      );
  };
}

export interface InferenceServiceDeps {
  repository: ModelRepository;
  engine: InferenceEngine;
  readiness: ServerReadiness;
  stream: StreamInferHandler;
  /** Set when --otlp-endpoint is: ModelInfer records a span in the caller's trace. */
  tracing?: RuntimeTracing | undefined;
}

export function inferenceServiceHandlers(deps: InferenceServiceDeps): GRPCInferenceServiceHandlers {
  const { repository, engine, readiness, tracing } = deps;
  return {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: readiness.ready })),
    ModelReady: unary((req) => ({ ready: readiness.ready && repository.isReady(req.name, req.version) })),
    ServerMetadata: unary(() => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: SERVER_EXTENSIONS })),
    ModelMetadata: unary((req) => modelMetadata(repository.resolve(req.name, req.version).spec)),
    ModelConfig: unary((req) => ({ config: modelConfig(repository.resolve(req.name, req.version).spec) })),
    ModelStatistics: unary((req) => {
      const models = req.name === '' ? repository.list() : [repository.resolve(req.name, req.version)];
      return { model_stats: models.map((m) => m.stats.toProto()) };
    }),
    RepositoryIndex: unary(() => ({
      models: repository.list().map((m) => ({ name: m.spec.name, version: MODEL_VERSION, state: 'READY', reason: '' })),
    })),
    RepositoryModelLoad: unary(() => {
      throw new RuntimeError(grpc.status.UNAVAILABLE, 'explicit model load / unload is not allowed if model control mode is not EXPLICIT', 'request');
    }),
    RepositoryModelUnload: unary(() => {
      throw new RuntimeError(grpc.status.UNAVAILABLE, 'explicit model load / unload is not allowed if model control mode is not EXPLICIT', 'request');
    }),
    ModelInfer: unary(async (req, call) => {
      // grpc-js also reports 'cancelled' after a call completes normally; only an abort before
      // the answer matters, and by then the engine has settled.
      const controller = new AbortController();
      call.on('cancelled', () => controller.abort(new Error('call cancelled')));
      if (call.cancelled) controller.abort(new Error('call cancelled'));
      const span = tracing?.start('inference.GRPCInferenceService/ModelInfer', metadataCarrier(call.metadata), rpcAttributes('ModelInfer', req.model_name, req.id));
      try {
        let response: ModelInferResponse | undefined;
        await engine.infer('ModelInfer', req, controller.signal, { send: (r) => { response = r; } });
        if (response === undefined) throw new RuntimeError(grpc.status.INTERNAL, 'model produced no response', 'backend');
        span?.end({ grpcCode: grpc.status.OK });
        return response;
      } catch (err) {
        const error = asRuntimeError(err);
        span?.end({ grpcCode: error.code, message: error.message });
        throw err;
      }
    }),
    ModelStreamInfer: deps.stream.handler,
  };
}

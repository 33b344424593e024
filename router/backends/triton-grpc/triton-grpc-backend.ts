// The triton-grpc backend: KServe V2 / Triton GRPCInferenceService calls to one endpoint at a time,
// one long-lived channel per endpoint, deadlines and client cancellation carried onto every call.
import * as grpc from '@grpc/grpc-js';
import type { CallContext } from '../../core/call-context.js';
import type { Endpoint } from '../../core/endpoint.js';
import type { LlmRequest, LlmResult, LlmUpstream } from '../../core/llm.js';
import { inferenceProto } from '../../core/grpc-definitions.js';
import type { GRPCInferenceServiceClient } from '../../generated/inference/GRPCInferenceService.js';
import type { ModelInferRequest } from '../../generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../../generated/inference/ModelInferResponse.js';
import type { ModelMetadataResponse__Output } from '../../generated/inference/ModelMetadataResponse.js';
import type { ModelConfigResponse__Output } from '../../generated/inference/ModelConfigResponse.js';
import type { ModelStatisticsResponse__Output } from '../../generated/inference/ModelStatisticsResponse.js';
import type { ModelStreamInferResponse__Output } from '../../generated/inference/ModelStreamInferResponse.js';
import type { Backend, ModelRef } from '../backend.js';
import { afterFirstResult } from './after-first-result.js';
import { upstreamError } from './grpc-error.js';
import { streamCall } from './stream-call.js';
import { streamGenerate } from './stream-generate.js';

export interface TritonGrpcBackendOptions {
  readonly maxMessageBytes: number;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: Res) => void,
) => grpc.ClientUnaryCall;

export class TritonGrpcBackend implements Backend {
  readonly kind = 'triton-grpc';
  readonly #clients = new Map<string, GRPCInferenceServiceClient>();
  readonly #options: TritonGrpcBackendOptions;

  constructor(options: TritonGrpcBackendOptions) {
    this.#options = options;
  }

  generate(endpoint: Endpoint, request: LlmRequest, upstream: LlmUpstream, ctx: CallContext): Promise<LlmResult> {
    return streamGenerate(this.#client(endpoint), endpoint, request, upstream, ctx);
  }

  infer(endpoint: Endpoint, request: ModelInferRequest, ctx: CallContext): Promise<ModelInferResponse__Output> {
    const client = this.#client(endpoint);
    return this.#unary(endpoint, ctx, client.ModelInfer.bind(client) as UnaryMethod<ModelInferRequest, ModelInferResponse__Output>, request);
  }

  streamInfer(endpoint: Endpoint, request: ModelInferRequest, ctx: CallContext): Promise<AsyncIterable<ModelStreamInferResponse__Output>> {
    return afterFirstResult(streamCall(this.#client(endpoint), endpoint, request, ctx));
  }

  async serverReady(endpoint: Endpoint, ctx: CallContext): Promise<boolean> {
    const client = this.#client(endpoint);
    const res = await this.#unary(endpoint, ctx, client.ServerReady.bind(client) as UnaryMethod<object, { ready: boolean }>, {});
    return res.ready;
  }

  async modelReady(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<boolean> {
    const client = this.#client(endpoint);
    const res = await this.#unary(endpoint, ctx, client.ModelReady.bind(client) as UnaryMethod<ModelRef, { ready: boolean }>, model);
    return res.ready;
  }

  modelMetadata(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<ModelMetadataResponse__Output> {
    const client = this.#client(endpoint);
    return this.#unary(endpoint, ctx, client.ModelMetadata.bind(client) as UnaryMethod<ModelRef, ModelMetadataResponse__Output>, model);
  }

  modelConfig(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<ModelConfigResponse__Output> {
    const client = this.#client(endpoint);
    return this.#unary(endpoint, ctx, client.ModelConfig.bind(client) as UnaryMethod<ModelRef, ModelConfigResponse__Output>, model);
  }

  modelStatistics(endpoint: Endpoint, model: ModelRef, ctx: CallContext): Promise<ModelStatisticsResponse__Output> {
    const client = this.#client(endpoint);
    return this.#unary(endpoint, ctx, client.ModelStatistics.bind(client) as UnaryMethod<ModelRef, ModelStatisticsResponse__Output>, model);
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  #client(endpoint: Endpoint): GRPCInferenceServiceClient {
    let client = this.#clients.get(endpoint.address);
    if (client === undefined) {
      const Service = inferenceProto().inference.GRPCInferenceService;
      client = new Service(endpoint.address, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': this.#options.maxMessageBytes,
        'grpc.max_send_message_length': this.#options.maxMessageBytes,
        // Notice a dead GPU node within ~30 s even when no request is in flight.
        'grpc.keepalive_time_ms': 20_000,
        'grpc.keepalive_timeout_ms': 10_000,
        'grpc.keepalive_permit_without_calls': 1,
      });
      this.#clients.set(endpoint.address, client);
    }
    return client;
  }

  #unary<Req, Res>(endpoint: Endpoint, ctx: CallContext, method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (ctx.signal.aborted) {
        reject(upstreamError({ code: grpc.status.CANCELLED, details: 'cancelled', metadata: new grpc.Metadata() } as grpc.ServiceError, endpoint, true));
        return;
      }
      const metadata = new grpc.Metadata();
      metadata.set('x-request-id', ctx.requestId);
      ctx.attempt?.inject((key, value) => metadata.set(key, value));
      const onAbort = (): void => call.cancel();
      const call = method(request, metadata, { deadline: new Date(ctx.deadline) }, (err, response) => {
        ctx.signal.removeEventListener('abort', onAbort);
        if (err) reject(upstreamError(err, endpoint, ctx.signal.aborted));
        else resolve(response as Res);
      });
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

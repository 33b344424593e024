// One inference request, whichever RPC carried it: model lookup, the decoupled-on-ModelInfer
// rule, validation, injected faults, then the model. Owns failure accounting (the model records
// its successes) and the hung requests, which shutdown releases with UNAVAILABLE.
import { status } from '@grpc/grpc-js';
import type { ModelInferRequest__Output } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse } from '../../router/generated/inference/ModelInferResponse.js';
import type { FaultInjector } from './fault-injector.js';
import type { ModelRepository } from './model-repository.js';
import { validateRequest } from './request-validator.js';
import { asRuntimeError, cancelledError, RuntimeError } from './runtime-error.js';
import type { ValidatedRequest } from './served-model.js';

export type InferRpc = 'ModelInfer' | 'ModelStreamInfer';

export interface InferSink {
  send(response: ModelInferResponse, final: boolean): void;
}

const SHUTTING_DOWN = 'GRPC server is shutting down and has stopped accepting new requests.';

export class InferenceEngine {
  readonly #repository: ModelRepository;
  readonly #faults: FaultInjector;
  readonly #crash: () => void;
  readonly #hung = new Set<(err: RuntimeError) => void>();
  #stopping = false;

  constructor(repository: ModelRepository, faults: FaultInjector, crash: () => void) {
    this.#repository = repository;
    this.#faults = faults;
    this.#crash = crash;
  }

  /** Resolves when the final response was handed to the sink; rejects with a RuntimeError. */
  async infer(rpc: InferRpc, req: ModelInferRequest__Output, signal: AbortSignal, sink: InferSink): Promise<void> {
    if (this.#stopping) throw new RuntimeError(status.UNAVAILABLE, SHUTTING_DOWN, 'request');
    const model = this.#repository.resolve(req.model_name, req.model_version);
    if (rpc === 'ModelInfer' && model.spec.decoupled) {
      throw new RuntimeError(status.UNIMPLEMENTED, 'ModelInfer RPC doesn\'t support models with decoupled transaction policy', 'request');
    }
    const receivedAt = process.hrtime.bigint();
    model.stats.requestStarted();
    try {
      const request = validateRequest(model.spec, req);
      const fault = this.#faults.decide();
      if (fault === 'crash') this.#crash();
      if (fault === 'hang') await this.#hang(signal);
      if (fault === 'error') throw new RuntimeError(status.INTERNAL, 'injected fault', 'backend', 'BACKEND');
      await model.execute({
        request,
        signal,
        receivedAt,
        send: (response, final) => sink.send(response, final),
        sendEmptyFinal: () => this.#emptyFinal(model.spec.name, request, sink),
      });
    } catch (err) {
      const elapsed = process.hrtime.bigint() - receivedAt;
      if (signal.aborted && !(err instanceof RuntimeError && err.reason !== 'CANCELED')) {
        model.stats.requestFailed('CANCELED', elapsed);
        throw cancelledError();
      }
      const error = asRuntimeError(err, 'backend');
      model.stats.requestFailed(error.reason, elapsed);
      throw error;
    }
  }

  /** Stop taking requests and answer the hung ones (a stuck backend would otherwise hold shutdown). */
  shutdown(): void {
    this.#stopping = true;
    const error = new RuntimeError(status.UNAVAILABLE, SHUTTING_DOWN, 'backend', 'OTHER');
    for (const release of this.#hung) release(error);
    this.#hung.clear();
  }

  #hang(signal: AbortSignal): Promise<never> {
    return new Promise<never>((_, reject) => {
      const release = (err: RuntimeError): void => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      };
      const onAbort = (): void => {
        this.#hung.delete(release);
        reject(signal.reason);
      };
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.#hung.add(release);
    });
  }

  /** Triton drops a backend's flags-only final response unless the request opted in. */
  #emptyFinal(modelName: string, request: ValidatedRequest, sink: InferSink): void {
    if (request.parameters['triton_enable_empty_final_response']?.bool_param !== true) return;
    sink.send({
      model_name: modelName,
      // Triton copies these from the request, so the version is whatever the client sent.
      model_version: request.modelVersion,
      id: request.id,
      parameters: {},
      outputs: [],
      raw_output_contents: [],
    }, true);
  }
}

// ModelStreamInfer as Triton runs it: many requests per stream, each handled concurrently;
// decoupled models' responses go out as produced (interleaved, correlate by id), the single
// response of a non-decoupled model goes out in request order; every response carries
// triton_final_response. Errors are in-band (error_message) and the stream stays open, unless
// the client opened it with metadata `triton_grpc_error: true`, in which case the first error
// ends the stream with its status. The stream ends OK once the client half-closed and all its
// requests are done; a client cancel aborts every request on the stream.
import * as grpc from '@grpc/grpc-js';
import type { ModelInferRequest__Output } from '../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse } from '../../router/generated/inference/ModelInferResponse.js';
import type { ModelStreamInferResponse } from '../../router/generated/inference/ModelStreamInferResponse.js';
import type { InferenceEngine } from './inference-engine.js';
import type { ModelRepository } from './model-repository.js';
import { asRuntimeError, type RuntimeError } from './runtime-error.js';
import { metadataCarrier, rpcAttributes, type Carrier, type RuntimeTracing } from './runtime-tracing.js';

type StreamCall = grpc.ServerDuplexStream<ModelInferRequest__Output, ModelStreamInferResponse>;

function withFinalFlag(response: ModelInferResponse, final: boolean): ModelInferResponse {
  return { ...response, parameters: { ...response.parameters, triton_final_response: { bool_param: final } } };
}

/** Triton's two in-band error shapes: request errors carry only the id; backend errors also the
 *  model name/version as requested and the final flag. */
function inBandError(req: ModelInferRequest__Output, err: RuntimeError): ModelStreamInferResponse {
  if (err.phase === 'request') return { error_message: err.message, infer_response: { id: req.id } };
  return {
    error_message: err.message,
    infer_response: {
      id: req.id,
      model_name: req.model_name,
      model_version: req.model_version,
      parameters: { triton_final_response: { bool_param: true } },
    },
  };
}

/** Writes non-decoupled responses in request order. */
class OrderedSlots {
  readonly #slots: { messages: ModelStreamInferResponse[]; done: boolean }[] = [];
  readonly #write: (message: ModelStreamInferResponse) => void;

  constructor(write: (message: ModelStreamInferResponse) => void) {
    this.#write = write;
  }

  reserve(): { push(message: ModelStreamInferResponse): void; complete(): void } {
    const slot = { messages: [] as ModelStreamInferResponse[], done: false };
    this.#slots.push(slot);
    return {
      push: (message) => slot.messages.push(message),
      complete: () => {
        slot.done = true;
        this.#flush();
      },
    };
  }

  #flush(): void {
    while (this.#slots[0]?.done === true) {
      for (const message of (this.#slots.shift() as { messages: ModelStreamInferResponse[] }).messages) this.#write(message);
    }
  }
}

export class StreamInferHandler {
  readonly #engine: InferenceEngine;
  readonly #repository: ModelRepository;
  readonly #tracing: RuntimeTracing | undefined;
  readonly #drainers = new Set<() => void>();
  #draining = false;

  constructor(engine: InferenceEngine, repository: ModelRepository, tracing?: RuntimeTracing) {
    this.#engine = engine;
    this.#repository = repository;
    this.#tracing = tracing;
  }

  /** Shutdown: streams end as soon as their in-flight requests are done, half-closed or not. */
  drain(): void {
    this.#draining = true;
    for (const drain of [...this.#drainers]) drain();
  }

  readonly handler: grpc.handleBidiStreamingCall<ModelInferRequest__Output, ModelStreamInferResponse> = (call) => {
    this.#serve(call);
  };

  #serve(call: StreamCall): void {
    const controller = new AbortController();
    const grpcErrorMode = call.metadata.get('triton_grpc_error').some((v) => String(v).toLowerCase() === 'true');
    // Every request on the stream continues the trace the stream was opened in.
    const trace = this.#tracing === undefined ? undefined : metadataCarrier(call.metadata);
    let outstanding = 0;
    let halfClosed = false;
    let closed = false;

    const write = (message: ModelStreamInferResponse): void => {
      if (!closed && !call.cancelled) call.write(message);
    };
    const ordered = new OrderedSlots(write);
    const close = (): void => {
      closed = true;
      this.#drainers.delete(maybeEnd);
    };
    const maybeEnd = (): void => {
      if (closed || outstanding > 0 || !(halfClosed || this.#draining)) return;
      close();
      call.end();
    };
    const endWithError = (err: RuntimeError): void => {
      if (closed) return;
      close();
      controller.abort(new Error('stream ended with an error'));
      call.emit('error', { code: err.code, details: err.message });
    };

    this.#drainers.add(maybeEnd);
    call.on('cancelled', () => {
      // Also fired after a normal end; only a stream still open was really cancelled.
      if (closed) return;
      close();
      controller.abort(new Error('stream cancelled'));
    });
    call.on('data', (req: ModelInferRequest__Output) => {
      if (closed) return;
      outstanding++;
      void this.#handle(req, controller.signal, grpcErrorMode, write, ordered, endWithError, trace).finally(() => {
        outstanding--;
        maybeEnd();
      });
    });
    call.on('end', () => {
      halfClosed = true;
      maybeEnd();
    });
  }

  async #handle(
    req: ModelInferRequest__Output,
    signal: AbortSignal,
    grpcErrorMode: boolean,
    write: (message: ModelStreamInferResponse) => void,
    ordered: OrderedSlots,
    endWithError: (err: RuntimeError) => void,
    trace: Carrier | undefined,
  ): Promise<void> {
    const slot = this.#repository.get(req.model_name)?.spec.decoupled === true ? undefined : ordered.reserve();
    const emit = (message: ModelStreamInferResponse): void => (slot === undefined ? write(message) : slot.push(message));
    const span = trace === undefined ? undefined : this.#tracing?.start('inference.GRPCInferenceService/ModelStreamInfer', trace, rpcAttributes('ModelStreamInfer', req.model_name, req.id));
    try {
      await this.#engine.infer('ModelStreamInfer', req, signal, {
        send: (response, final) => emit({ error_message: '', infer_response: withFinalFlag(response, final) }),
      });
      span?.end({ grpcCode: signal.aborted ? grpc.status.CANCELLED : grpc.status.OK });
    } catch (err) {
      if (signal.aborted) {
        span?.end({ grpcCode: grpc.status.CANCELLED, message: 'stream cancelled' });
        return; // the stream is gone; there is no one to tell
      }
      const error = asRuntimeError(err);
      span?.end({ grpcCode: error.code, message: error.message });
      if (grpcErrorMode) endWithError(error);
      else emit(inBandError(req, error));
    } finally {
      slot?.complete();
    }
  }
}

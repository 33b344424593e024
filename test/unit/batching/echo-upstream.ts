// A fake upstream for the batcher: a model that answers every input back as an output of the same
// name, datatype, shape and bytes — so a member's answer must equal its own input, bit for bit.
// Records every call; can hold answers, fail, add an output without a batch dim, or answer in typed contents.
import { inputsFromRequest, rawToContents } from '../../../router/adapters/kserve-tensor/index.js';
import type { BatchUpstream, UpstreamModelRef } from '../../../router/batching/batch-upstream.js';
import type { RetryConfig } from '../../../router/config/schema.js';
import type { CallContext } from '../../../router/core/call-context.js';
import type { ModelConfigResponse__Output } from '../../../router/generated/inference/ModelConfigResponse.js';
import type { ModelInferRequest, ModelInferRequest__Output } from '../../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../../../router/generated/inference/ModelInferResponse.js';
import { decodedView } from '../../../router/batching/batchable-request.js';

export interface UpstreamCall {
  readonly request: ModelInferRequest;
  readonly ctx: CallContext;
  readonly retry: RetryConfig;
}

interface Held {
  readonly call: UpstreamCall;
  readonly resolve: (r: ModelInferResponse__Output) => void;
  readonly reject: (e: unknown) => void;
}

export class EchoUpstream implements BatchUpstream {
  maxBatchSize = 8;
  configError: Error | undefined;
  configCalls = 0;
  readonly calls: UpstreamCall[] = [];
  /** When set, answers wait in `held` until released. */
  hold = false;
  readonly held: Held[] = [];
  /** When set, every infer fails with it. */
  failWith: Error | undefined;
  /** Adds an output `meta` (INT32 [2]) that has no batch dimension. */
  unbatchedOutput = false;
  /** Answers in typed contents instead of raw_output_contents. */
  typedAnswer = false;

  async modelConfig(model: UpstreamModelRef): Promise<ModelConfigResponse__Output> {
    this.configCalls++;
    if (this.configError !== undefined) throw this.configError;
    return { config: { name: model.name, max_batch_size: this.maxBatchSize } as NonNullable<ModelConfigResponse__Output['config']> };
  }

  infer(request: ModelInferRequest, ctx: CallContext, retry: RetryConfig): Promise<ModelInferResponse__Output> {
    const call = { request, ctx, retry };
    this.calls.push(call);
    if (ctx.report !== undefined) {
      ctx.report.endpoint = 'fake:1';
      ctx.report.attempts = 1;
    }
    if (this.hold) return new Promise((resolve, reject) => this.held.push({ call, resolve, reject }));
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    return Promise.resolve(this.answer(request));
  }

  /** Answers (or fails) every held call. */
  release(err?: Error): void {
    for (const h of this.held.splice(0)) {
      if (err !== undefined) h.reject(err);
      else h.resolve(this.answer(h.call.request));
    }
  }

  answer(request: ModelInferRequest): ModelInferResponse__Output {
    const tensors = inputsFromRequest(decoded(request));
    const outputs: ModelInferResponse__Output['outputs'] = tensors.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape.map(String),
      parameters: { echoed: { string_param: t.name, parameter_choice: 'string_param' as const } },
      contents: this.typedAnswer ? rawToContents(t.name, t.datatype, t.shape, t.raw) as never : null,
    }));
    const raw = tensors.map((t) => Buffer.from(t.raw));
    if (this.unbatchedOutput) {
      outputs.push({ name: 'meta', datatype: 'INT32', shape: ['2'], parameters: {}, contents: null });
      raw.push(Buffer.from(new Int32Array([7, 9]).buffer));
    }
    return {
      model_name: request.model_name ?? '',
      model_version: '1',
      id: request.id ?? '',
      parameters: { batch_parameter: { bool_param: true, parameter_choice: 'bool_param' } },
      outputs,
      raw_output_contents: this.typedAnswer ? [] : raw,
    };
  }
}

/** The router's own decoded view of a request (the batcher's), so the echo reads tensors exactly as it does. */
function decoded(request: ModelInferRequest): ModelInferRequest__Output {
  const view = decodedView(request);
  if (view === undefined) throw new Error('echo upstream: raw contents given as base64 strings');
  return view;
}

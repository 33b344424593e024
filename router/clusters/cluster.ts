// A named set of endpoints of one backend kind. The cluster owns per-endpoint in-flight accounting;
// the endpoint choice reads an immutable snapshot so a pick never waits.
import type { Backend, ModelRef } from '../backends/backend.js';
import type { CallContext } from '../core/call-context.js';
import type { Endpoint } from '../core/endpoint.js';
import { SwitchyardError } from '../core/errors.js';
import type { LlmEvent, LlmRequest, LlmResult, LlmUpstream } from '../core/llm.js';
import type { ModelInferRequest } from '../generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../generated/inference/ModelInferResponse.js';
import type { ModelMetadataResponse__Output } from '../generated/inference/ModelMetadataResponse.js';
import type { ModelConfigResponse__Output } from '../generated/inference/ModelConfigResponse.js';
import type { ModelStatisticsResponse__Output } from '../generated/inference/ModelStatisticsResponse.js';
import { pickLeastRequest } from './least-request-pick.js';

/** Control calls (metadata, readiness) get a short deadline of their own: they must not hang a probe. */
const CONTROL_TIMEOUT_MS = 2_000;

export class Cluster {
  readonly name: string;
  readonly backend: Backend;
  readonly #endpoints: readonly Endpoint[];
  readonly #inFlight: Map<Endpoint, number>;

  constructor(name: string, addresses: readonly string[], backend: Backend) {
    this.name = name;
    this.backend = backend;
    this.#endpoints = Object.freeze(addresses.map((address) => Object.freeze({ address, cluster: name })));
    this.#inFlight = new Map(this.#endpoints.map((ep) => [ep, 0]));
  }

  get endpoints(): readonly Endpoint[] {
    return this.#endpoints;
  }

  inFlight(endpoint: Endpoint): number {
    return this.#inFlight.get(endpoint) ?? 0;
  }

  infer(request: ModelInferRequest, ctx: CallContext): Promise<ModelInferResponse__Output> {
    return this.#withEndpoint((ep) => this.backend.infer(ep, request, ctx));
  }

  /**
   * One generation. The endpoint stays counted as busy until the answer has been consumed (events
   * iterated to the end, or the relayed body closed), not merely until the first result.
   */
  async generate(request: LlmRequest, upstream: LlmUpstream, ctx: CallContext): Promise<LlmResult> {
    const endpoint = this.#acquire();
    let result: LlmResult;
    try {
      result = await this.backend.generate(endpoint, request, upstream, ctx);
    } catch (err) {
      this.#release(endpoint);
      throw err;
    }
    if (result.kind === 'relay') {
      result.body.once('close', () => this.#release(endpoint));
      return result;
    }
    return { kind: 'events', events: this.#releasing(endpoint, result.events) };
  }

  async *#releasing(endpoint: Endpoint, events: AsyncIterable<LlmEvent>): AsyncGenerator<LlmEvent> {
    try {
      yield* events;
    } finally {
      this.#release(endpoint);
    }
  }

  /** True when any endpoint reports the model ready. */
  async modelReady(model: ModelRef, ctx: CallContext): Promise<boolean> {
    const answers = await Promise.allSettled(
      this.#endpoints.map((ep) => this.backend.modelReady(ep, model, controlContext(ctx))),
    );
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

  async #withEndpoint<T>(call: (ep: Endpoint) => Promise<T>): Promise<T> {
    const endpoint = this.#acquire();
    try {
      return await call(endpoint);
    } finally {
      this.#release(endpoint);
    }
  }

  #acquire(): Endpoint {
    const endpoint = pickLeastRequest(this.#endpoints, (ep) => this.inFlight(ep));
    if (endpoint === undefined) {
      throw new SwitchyardError('SWY_ERR_CLUSTER_NO_ENDPOINT', `cluster "${this.name}" has no endpoints`);
    }
    this.#inFlight.set(endpoint, this.inFlight(endpoint) + 1);
    return endpoint;
  }

  #release(endpoint: Endpoint): void {
    this.#inFlight.set(endpoint, this.inFlight(endpoint) - 1);
  }

  /**
   * Read-only control calls are safe to repeat, so they fail over across endpoints until one answers;
   * an answer that is an upstream judgement (e.g. NOT_FOUND) is returned, only transport failures move on.
   */
  async #firstAnswer<T>(call: (ep: Endpoint) => Promise<T>): Promise<T> {
    let lastError: unknown = new SwitchyardError('SWY_ERR_CLUSTER_NO_ENDPOINT', `cluster "${this.name}" has no endpoints`);
    const ordered = [...this.#endpoints].sort((a, b) => this.inFlight(a) - this.inFlight(b));
    for (const endpoint of ordered) {
      try {
        return await call(endpoint);
      } catch (err) {
        lastError = err;
        const transport = err instanceof SwitchyardError && (err.code === 'SWY_ERR_UPSTREAM_UNAVAILABLE' || err.code === 'SWY_ERR_UPSTREAM_DEADLINE');
        if (!transport) throw err;
      }
    }
    throw lastError;
  }
}

function controlContext(ctx: CallContext): CallContext {
  return { ...ctx, deadline: Math.min(ctx.deadline, Date.now() + CONTROL_TIMEOUT_MS) };
}

// The openai-http backend: a vLLM (or other OpenAI-compatible) server. Generation requests are
// forwarded with the client's own body (model name rewritten to the upstream's) and answers are
// relayed as bytes; upstream errors come back through the catalogue. KServe V2 calls do not apply.
import { pipeline, type Readable } from 'node:stream';
import { Pool } from 'undici';
import type { CallContext } from '../../core/call-context.js';
import type { Endpoint } from '../../core/endpoint.js';
import { SwitchyardError } from '../../core/errors.js';
import type { LlmRequest, LlmResult, LlmUpstream } from '../../core/llm.js';
import type { Backend } from '../backend.js';
import { modelNameRewrite } from './model-name-rewrite.js';
import { upstreamHttpError, upstreamTransportError } from './upstream-http-error.js';

export interface OpenAiHttpBackendOptions {
  readonly apiKey?: string | undefined;
}

/** Largest error body read from the upstream (errors are small; a broken upstream must not fill memory). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export class OpenAiHttpBackend implements Backend {
  readonly kind = 'openai-http';
  readonly #pools = new Map<string, Pool>();
  readonly #options: OpenAiHttpBackendOptions;

  constructor(options: OpenAiHttpBackendOptions = {}) {
    this.#options = options;
  }

  async generate(endpoint: Endpoint, request: LlmRequest, upstream: LlmUpstream, ctx: CallContext): Promise<LlmResult> {
    const body: Record<string, unknown> = { ...request.body, model: upstream.model };
    // The route's default applies to every backend alike, not the upstream's own default.
    if (body.max_tokens == null && body.max_completion_tokens == null) body.max_tokens = request.sampling.maxTokens;
    const path = request.kind === 'chat' ? '/v1/chat/completions' : '/v1/completions';
    const res = await this.#request(endpoint, ctx, 'POST', path, JSON.stringify(body));
    if (res.statusCode >= 400) throw upstreamHttpError(res.statusCode, await readLimited(res.body), endpoint);

    const contentType = String(res.headers['content-type'] ?? 'application/json');
    let relayed: Readable = res.body;
    if (upstream.model !== request.model) {
      relayed = pipeline(res.body, modelNameRewrite(upstream.model, request.model), () => {
        // Errors surface on the rewritten stream, which the listener consumes.
      });
    }
    return { kind: 'relay', status: res.statusCode, contentType, body: relayed };
  }

  async serverReady(endpoint: Endpoint, ctx: CallContext): Promise<boolean> {
    const res = await this.#request(endpoint, ctx, 'GET', '/health');
    await res.body.dump();
    return res.statusCode === 200;
  }

  /** vLLM answers /v1/models only once its engine is up; the model must be among those it serves. */
  async modelReady(endpoint: Endpoint, model: { name: string }, ctx: CallContext): Promise<boolean> {
    const res = await this.#request(endpoint, ctx, 'GET', '/v1/models');
    if (res.statusCode !== 200) {
      await res.body.dump();
      return false;
    }
    const list = (await res.body.json()) as { data?: Array<{ id?: unknown }> };
    return Array.isArray(list.data) && list.data.some((m) => m.id === model.name);
  }

  infer(endpoint: Endpoint): Promise<never> {
    return Promise.reject(notKserve(endpoint));
  }

  streamInfer(endpoint: Endpoint): Promise<never> {
    return Promise.reject(notKserve(endpoint));
  }

  modelMetadata(endpoint: Endpoint): Promise<never> {
    return Promise.reject(notKserve(endpoint));
  }

  modelConfig(endpoint: Endpoint): Promise<never> {
    return Promise.reject(notKserve(endpoint));
  }

  modelStatistics(endpoint: Endpoint): Promise<never> {
    return Promise.reject(notKserve(endpoint));
  }

  close(): void {
    for (const pool of this.#pools.values()) void pool.destroy();
    this.#pools.clear();
  }

  async #request(endpoint: Endpoint, ctx: CallContext, method: 'GET' | 'POST', path: string, body?: string) {
    if (ctx.signal.aborted) throw new SwitchyardError('SWY_ERR_REQUEST_CANCELLED', 'request cancelled by the client');
    const deadline = AbortSignal.timeout(Math.max(1, ctx.deadline - Date.now()));
    const headers: Record<string, string> = { 'x-request-id': ctx.requestId };
    ctx.attempt?.inject((key, value) => {
      headers[key] = value;
    });
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#options.apiKey !== undefined) headers.authorization = `Bearer ${this.#options.apiKey}`;
    try {
      return await this.#pool(endpoint).request({
        method,
        path,
        headers,
        body: body ?? null,
        // Aborting also ends a relayed body mid-stream: the upstream sees the disconnect at once.
        signal: AbortSignal.any([ctx.signal, deadline]),
      });
    } catch (err) {
      throw upstreamTransportError(err, endpoint, ctx.signal.aborted, deadline.aborted);
    }
  }

  #pool(endpoint: Endpoint): Pool {
    let pool = this.#pools.get(endpoint.address);
    if (pool === undefined) {
      // Shorter idle time than uvicorn's 5 s keep-alive, so a socket the upstream is closing is not reused.
      pool = new Pool(`http://${endpoint.address}`, { keepAliveTimeout: 4_000, keepAliveMaxTimeout: 4_000 });
      this.#pools.set(endpoint.address, pool);
    }
    return pool;
  }
}

function notKserve(endpoint: Endpoint): SwitchyardError {
  return new SwitchyardError(
    'SWY_ERR_INPUT_UNSUPPORTED',
    `cluster "${endpoint.cluster}" is an OpenAI HTTP server: use /v1/chat/completions or /v1/completions for this model`,
  );
}

async function readLimited(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ERROR_BODY_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

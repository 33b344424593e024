// The OpenAI listener protocol under /v1: chat completions and legacy completions (streamed as SSE
// or aggregated), and the model list. Requests are parsed into an LlmRequest, admitted, routed;
// answers come back as events (rendered here) or as an OpenAI-speaking upstream's bytes (relayed).
// Admission by API key: the model list shows only the tenant's models; a generation reserves its
// prompt estimate + max_tokens against token limits and tells admission what it really used.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdmittedRequest } from '../../admission/admitted-request.js';
import type { InFlightLimit } from '../../admission/in-flight-limit.js';
import type { TenantAdmission } from '../../admission/tenant-admission.js';
import { asSwitchyardError, SwitchyardError } from '../../core/errors.js';
import type { LlmEvent, LlmKind, LlmRequest, LlmUsage, FinishReason } from '../../core/llm.js';
import type { ModelRouter } from '../../routing/model-router.js';
import { NO_TELEMETRY, type RouterTelemetry } from '../../telemetry/create-telemetry.js';
import type { RequestTelemetry } from '../../telemetry/request-telemetry.js';
import { withTraceLogs } from '../../telemetry/trace-log-context.js';
import { authenticateObserved, identityOf, meterHttp } from '../http-admission.js';
import { observed, observeHttp, type HttpRequestTelemetry } from '../http-request-telemetry.js';
import { reportRoute, requestContext } from '../request-context.js';
import { parseChatRequest } from './chat-request.js';
import { parseCompletionRequest } from './completion-request.js';
import { parseJsonObject } from './json-body.js';
import { openAiError } from './openai-error.js';
import { completeBody, ResponseIdentity, StreamFrames } from './openai-response.js';
import { RelayUsage } from './relay-usage.js';

export interface OpenAiRoutesOptions {
  readonly router: ModelRouter;
  readonly admission: InFlightLimit;
  /** Metrics, traces and the access log of generations. */
  readonly telemetry?: RouterTelemetry;
  /** API keys, tenants and their limits (absent: everyone is anonymous and unlimited). */
  readonly tenantAdmission?: TenantAdmission;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // Tell nginx-style proxies in front of us not to buffer the stream.
  'x-accel-buffering': 'no',
};

export function openAiRoutes(app: FastifyInstance, options: OpenAiRoutesOptions): void {
  const { router, admission } = options;
  const telemetry = options.telemetry ?? NO_TELEMETRY;
  const tenants = options.tenantAdmission;
  const startedAt = Math.floor(Date.now() / 1000);

  const modelCard = (id: string) => ({ id, object: 'model', created: startedAt, owned_by: 'switchyard' });
  // Only the models the key's tenant may use.
  app.get('/v1/models', async (req) => ({ object: 'list', data: (tenants?.visibleModels(identityOf(req, tenants), router.llmModels) ?? router.llmModels).map(modelCard) }));
  // Model ids may contain '/' (Hugging Face names such as meta-llama/Llama-3.1-8B-Instruct).
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (req) => {
    const id = req.params['*'];
    tenants?.authorizeModel(identityOf(req, tenants), id);
    if (!router.llmModels.includes(id)) {
      throw new SwitchyardError('SWY_ERR_ROUTE_MODEL_NOT_FOUND', `The model '${id}' does not exist`, { param: 'model' });
    }
    return modelCard(id);
  });

  const generation = (kind: LlmKind) => async (req: FastifyRequest<{ Body: Buffer }>, reply: FastifyReply) => {
    const observation = observed(req);
    return withTraceLogs(observation.telemetry, () => generate(kind, req, reply, observation));
  };

  const generate = async (kind: LlmKind, req: FastifyRequest<{ Body: Buffer }>, reply: FastifyReply, observed: HttpRequestTelemetry) => {
    const body = parseJsonObject(req.body);
    const model = typeof body.model === 'string' ? body.model : '';
    if (model === '') throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', "'model' is required and must be a non-empty string", { param: 'model' });
    observed.telemetry.requested(model);
    const caller = identityOf(req, tenants);
    tenants?.authorizeModel(caller, model); // before the route: a hidden model must look unknown
    const route = router.llmRoute(model);
    const llm = route.llm;
    const limits = { defaultMaxTokens: llm.defaultMaxTokens, maxTokens: llm.maxTokens, maxMessages: llm.maxMessages, maxPromptChars: llm.maxPromptChars };
    const request = kind === 'chat' ? parseChatRequest(body, limits) : parseCompletionRequest(body, limits);

    const release = admission.acquire();
    // Held until the response is over (a stream outlives this handler), released exactly once.
    reply.raw.once('close', release);
    let admitted: AdmittedRequest | undefined;
    if (tenants !== undefined) {
      admitted = await tenants.admit(caller, model, { timeoutMs: route.timeoutMs, llm: request });
      meterHttp(reply, admitted, observed.telemetry);
    }
    const ctx = requestContext(req, reply, Number.MAX_SAFE_INTEGER, routingFacts(request), observed);
    let result;
    try {
      result = await router.generate(request, ctx);
    } finally {
      reportRoute(reply, ctx); // errors too: a canary's failures must be told apart
    }

    if (result.kind === 'relay') {
      const sse = result.contentType.startsWith('text/event-stream');
      reply.code(result.status).headers(sse ? SSE_HEADERS : {}).type(result.contentType);
      // A relayed JSON answer comes whole at the end: only a relayed stream has a first token.
      // A metered tenant's relayed answer is read (not changed) for its usage.
      const usage = admitted?.metersTokens === true ? new RelayUsage(sse) : undefined;
      const metered = usage === undefined || admitted === undefined ? undefined : { usage, admitted };
      if (sse) return reply.send(Readable.from(relayWithErrorTail(result.body, ctx.signal, req, observed, metered)));
      return reply.send(metered === undefined ? result.body : Readable.from(readUsage(result.body, metered.usage, metered.admitted)));
    }
    const identity = new ResponseIdentity(kind, request.model);
    if (!request.stream) {
      const { text, finishReason, usage } = await collect(result.events, observed.telemetry, admitted);
      return reply.type('application/json').send(completeBody(identity, text, finishReason, usage));
    }
    // Fastify pipes the Readable (backpressure: a slow client pauses generation, memory stays
    // bounded) and destroys it when the client leaves, which returns the iterator and cancels upstream.
    return reply.code(200).headers(SSE_HEADERS).send(Readable.from(sseFrames(request, result.events, new StreamFrames(identity, request.includeUsage), req, observed, admitted)));
  };

  const observe = observeHttp(telemetry, 'openai');
  const onRequest = tenants === undefined ? observe : [observe, authenticateObserved(tenants)];
  const config = { ownAuthentication: true };
  app.post<{ Body: Buffer }>('/v1/chat/completions', { onRequest, config }, generation('chat'));
  app.post<{ Body: Buffer }>('/v1/completions', { onRequest, config }, generation('completion'));
}

async function* sseFrames(
  request: LlmRequest,
  events: AsyncIterable<LlmEvent>,
  frames: StreamFrames,
  req: FastifyRequest,
  observed: HttpRequestTelemetry,
  admitted: AdmittedRequest | undefined,
): AsyncGenerator<string> {
  if (request.kind === 'chat') yield frames.role();
  const tokens = new TokenClock(observed.telemetry);
  try {
    for await (const event of events) {
      if (event.type === 'delta') {
        tokens.delta();
        // Counted as it is handed on: a client that leaves mid-stream is charged for what it was sent.
        admitted?.streamed();
        yield frames.content(event.text);
      } else {
        observed.telemetry.usage(event.usage.promptTokens, event.usage.completionTokens);
        admitted?.usage(event.usage);
        yield frames.finish(event.finishReason);
        yield frames.usage(event.usage);
      }
    }
  } catch (err) {
    // The status line is gone: a mid-stream failure becomes an error event, then a clean end.
    const error = asSwitchyardError(err);
    if (error.code === 'SWY_ERR_REQUEST_CANCELLED') return;
    observed.failedAfterHeaders(error);
    admitted?.failed();
    req.log.warn({ code: error.code, err: error }, `stream ended by an upstream error: ${error.message}`);
    yield frames.error(openAiError(error).body.error);
  }
  yield frames.done();
}

/**
 * Relays an upstream SSE body; if the upstream breaks off mid-stream, the client still gets an error
 * event and [DONE]. The bytes are not parsed, so only the first chunk is told (as the first token).
 */
async function* relayWithErrorTail(
  body: Readable,
  clientGone: AbortSignal,
  req: FastifyRequest,
  observed: HttpRequestTelemetry,
  metered: { readonly usage: RelayUsage; readonly admitted: AdmittedRequest } | undefined,
): AsyncGenerator<Buffer | string> {
  try {
    let first = true;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (first) {
        first = false;
        observed.telemetry.firstToken();
      }
      if (metered !== undefined) {
        metered.admitted.streamed(metered.usage.push(chunk));
        const usage = metered.usage.usage();
        if (usage !== undefined) metered.admitted.usage(usage);
      }
      yield chunk;
    }
  } catch (err) {
    if (clientGone.aborted) return;
    req.log.warn({ err }, 'upstream stream broke off');
    const lost = new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'the upstream closed the stream before it was complete', { cause: err });
    observed.failedAfterHeaders(lost);
    metered?.admitted.failed();
    yield `\n\ndata: ${JSON.stringify(openAiError(lost).body)}\n\ndata: [DONE]\n\n`;
  }
}

/** Relays a non-streaming upstream answer as it comes, then hands its usage to admission. */
async function* readUsage(body: Readable, usage: RelayUsage, admitted: AdmittedRequest): AsyncGenerator<Buffer> {
  for await (const chunk of body as AsyncIterable<Buffer>) {
    usage.push(chunk);
    yield chunk;
  }
  const read = usage.usage();
  if (read !== undefined) admitted.usage(read);
}

/** Tells telemetry of each token delta: the first one (time to first token), then each later one (inter-token latency). */
class TokenClock {
  readonly #telemetry: RequestTelemetry;
  #first = true;

  constructor(telemetry: RequestTelemetry) {
    this.#telemetry = telemetry;
  }

  delta(): void {
    if (!this.#first) {
      this.#telemetry.token();
      return;
    }
    this.#first = false;
    this.#telemetry.firstToken();
  }
}

/** Prefix affinity keys on the prompt's start; a system prompt shared by many requests comes first. */
const PROMPT_PREFIX_CHARS = 4096;

function routingFacts(request: LlmRequest): { user?: string; promptPrefix: string } {
  const text = request.kind === 'chat' ? (request.messages ?? []).map((m) => m.content ?? '').join('\n') : (request.prompt ?? '');
  const user = request.body.user;
  return { ...(typeof user === 'string' && user !== '' ? { user } : {}), promptPrefix: text.slice(0, PROMPT_PREFIX_CHARS) };
}

/** A whole answer from events; token timing is measured as the events arrive, as for a stream. */
async function collect(
  events: AsyncIterable<LlmEvent>,
  telemetry: RequestTelemetry,
  admitted: AdmittedRequest | undefined,
): Promise<{ text: string; finishReason: FinishReason; usage: LlmUsage }> {
  let text = '';
  const tokens = new TokenClock(telemetry);
  for await (const event of events) {
    if (event.type === 'delta') {
      tokens.delta();
      text += event.text;
    } else {
      telemetry.usage(event.usage.promptTokens, event.usage.completionTokens);
      admitted?.usage(event.usage);
      return { text, finishReason: event.finishReason, usage: event.usage };
    }
  }
  throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', 'the upstream ended without a final response');
}

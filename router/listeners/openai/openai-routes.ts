// The OpenAI listener protocol under /v1: chat completions and legacy completions (streamed as SSE
// or aggregated), and the model list. Requests are parsed into an LlmRequest, admitted, routed;
// answers come back as events (rendered here) or as an OpenAI-speaking upstream's bytes (relayed).
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InFlightLimit } from '../../admission/in-flight-limit.js';
import { asSwitchyardError, SwitchyardError } from '../../core/errors.js';
import type { LlmEvent, LlmKind, LlmRequest, LlmUsage, FinishReason } from '../../core/llm.js';
import type { ModelRouter } from '../../routing/model-router.js';
import { reportRoute, requestContext } from '../request-context.js';
import { parseChatRequest } from './chat-request.js';
import { parseCompletionRequest } from './completion-request.js';
import { parseJsonObject } from './json-body.js';
import { openAiError } from './openai-error.js';
import { completeBody, ResponseIdentity, StreamFrames } from './openai-response.js';

export interface OpenAiRoutesOptions {
  readonly router: ModelRouter;
  readonly admission: InFlightLimit;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // Tell nginx-style proxies in front of us not to buffer the stream.
  'x-accel-buffering': 'no',
};

export function openAiRoutes(app: FastifyInstance, options: OpenAiRoutesOptions): void {
  const { router, admission } = options;
  const startedAt = Math.floor(Date.now() / 1000);

  const modelCard = (id: string) => ({ id, object: 'model', created: startedAt, owned_by: 'switchyard' });
  app.get('/v1/models', async () => ({ object: 'list', data: router.llmModels.map(modelCard) }));
  // Model ids may contain '/' (Hugging Face names such as meta-llama/Llama-3.1-8B-Instruct).
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (req) => {
    const id = req.params['*'];
    if (!router.llmModels.includes(id)) {
      throw new SwitchyardError('SWY_ERR_ROUTE_MODEL_NOT_FOUND', `The model '${id}' does not exist`, { param: 'model' });
    }
    return modelCard(id);
  });

  const generation = (kind: LlmKind) => async (req: FastifyRequest<{ Body: Buffer }>, reply: FastifyReply) => {
    const body = parseJsonObject(req.body);
    const model = typeof body.model === 'string' ? body.model : '';
    if (model === '') throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', "'model' is required and must be a non-empty string", { param: 'model' });
    const llm = router.llmRoute(model).llm;
    const limits = { defaultMaxTokens: llm.defaultMaxTokens, maxTokens: llm.maxTokens, maxMessages: llm.maxMessages, maxPromptChars: llm.maxPromptChars };
    const request = kind === 'chat' ? parseChatRequest(body, limits) : parseCompletionRequest(body, limits);

    const release = admission.acquire();
    // Held until the response is over (a stream outlives this handler), released exactly once.
    reply.raw.once('close', release);
    const ctx = requestContext(req, reply, Number.MAX_SAFE_INTEGER, routingFacts(request));
    let result;
    try {
      result = await router.generate(request, ctx);
    } finally {
      reportRoute(reply, ctx); // errors too: a canary's failures must be told apart
    }

    if (result.kind === 'relay') {
      const sse = result.contentType.startsWith('text/event-stream');
      reply.code(result.status).headers(sse ? SSE_HEADERS : {}).type(result.contentType);
      return reply.send(sse ? Readable.from(relayWithErrorTail(result.body, ctx.signal, req)) : result.body);
    }
    const identity = new ResponseIdentity(kind, request.model);
    if (!request.stream) {
      const { text, finishReason, usage } = await collect(result.events);
      return reply.type('application/json').send(completeBody(identity, text, finishReason, usage));
    }
    // Fastify pipes the Readable (backpressure: a slow client pauses generation, memory stays
    // bounded) and destroys it when the client leaves, which returns the iterator and cancels upstream.
    return reply.code(200).headers(SSE_HEADERS).send(Readable.from(sseFrames(request, result.events, new StreamFrames(identity, request.includeUsage), req)));
  };

  app.post<{ Body: Buffer }>('/v1/chat/completions', generation('chat'));
  app.post<{ Body: Buffer }>('/v1/completions', generation('completion'));
}

async function* sseFrames(request: LlmRequest, events: AsyncIterable<LlmEvent>, frames: StreamFrames, req: FastifyRequest): AsyncGenerator<string> {
  if (request.kind === 'chat') yield frames.role();
  try {
    for await (const event of events) {
      if (event.type === 'delta') {
        yield frames.content(event.text);
      } else {
        yield frames.finish(event.finishReason);
        yield frames.usage(event.usage);
      }
    }
  } catch (err) {
    // The status line is gone: a mid-stream failure becomes an error event, then a clean end.
    const error = asSwitchyardError(err);
    if (error.code === 'SWY_ERR_REQUEST_CANCELLED') return;
    req.log.warn({ code: error.code, err: error }, `stream ended by an upstream error: ${error.message}`);
    yield frames.error(openAiError(error).body.error);
  }
  yield frames.done();
}

/** Relays an upstream SSE body; if the upstream breaks off mid-stream, the client still gets an error event and [DONE]. */
async function* relayWithErrorTail(body: Readable, clientGone: AbortSignal, req: FastifyRequest): AsyncGenerator<Buffer | string> {
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    if (clientGone.aborted) return;
    req.log.warn({ err }, 'upstream stream broke off');
    const lost = new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'the upstream closed the stream before it was complete', { cause: err });
    yield `\n\ndata: ${JSON.stringify(openAiError(lost).body)}\n\ndata: [DONE]\n\n`;
  }
}

/** Prefix affinity keys on the prompt's start; a system prompt shared by many requests comes first. */
const PROMPT_PREFIX_CHARS = 4096;

function routingFacts(request: LlmRequest): { user?: string; promptPrefix: string } {
  const text = request.kind === 'chat' ? (request.messages ?? []).map((m) => m.content ?? '').join('\n') : (request.prompt ?? '');
  const user = request.body.user;
  return { ...(typeof user === 'string' && user !== '' ? { user } : {}), promptPrefix: text.slice(0, PROMPT_PREFIX_CHARS) };
}

async function collect(events: AsyncIterable<LlmEvent>): Promise<{ text: string; finishReason: FinishReason; usage: LlmUsage }> {
  let text = '';
  for await (const event of events) {
    if (event.type === 'delta') text += event.text;
    else return { text, finishReason: event.finishReason, usage: event.usage };
  }
  throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', 'the upstream ended without a final response');
}

// The dev runtime's OpenAI port, behaving like vLLM's OpenAI server in front of the vLLM-backend
// models (tiny-llm): GET /health (200, or 503 when not ready), GET /version, GET /v1/models,
// POST /v1/chat/completions and POST /v1/completions, streamed (SSE) or not, and GET /metrics
// (vLLM's load gauges and token counters). Owns the HTTP request
// lifecycle: body, validation, readiness, client disconnects (the response's 'close' before it
// finished aborts the generation, which the engine counts as cancelled) and the error envelope.
// Plain node:http, like the control port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { reply, replyJson } from './http-reply.js';
import type { InferenceEngine } from './inference-engine.js';
import { SERVER_VERSION } from './inference-service.js';
import type { ModelRepository } from './model-repository.js';
import { MAX_MODEL_LEN } from './models/tiny-llm/tiny-llm-model.js';
import { ChunkStream } from './openai-chunk-stream.js';
import { asOpenAiError, badRequest, OpenAiError } from './openai-errors.js';
import { runGeneration, type GenerationCall } from './openai-generation.js';
import { parseOpenAiRequest, type CompletionKind, type OpenAiRequest } from './openai-request.js';
import { completionBody, modelList, responseHead, usage } from './openai-responses.js';
import { SseStream } from './openai-sse.js';
import { METRICS_CONTENT_TYPE } from './prometheus-metrics.js';
import { renderVllmMetrics } from './vllm-metrics.js';
import type { RuntimeTracing } from './runtime-tracing.js';
import type { ServerReadiness } from './server-readiness.js';

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const NOT_READY = 'The server is not ready to serve requests.';

export interface OpenAiHttpDeps {
  repository: ModelRepository;
  engine: InferenceEngine;
  readiness: ServerReadiness;
  /** Set when --otlp-endpoint is: each completion request records a span in the caller's trace. */
  tracing?: RuntimeTracing | undefined;
}

/** The models this port serves: those behind the vLLM backend, whose tensor contract it speaks. */
export function openAiModels(repository: ModelRepository): string[] {
  return repository.list().filter((m) => m.spec.backend === 'vllm').map((m) => m.spec.name);
}

/** A served model's max_model_len, as its config publishes it (a profile may raise tiny-llm's). */
function maxModelLenOf(repository: ModelRepository): (model: string) => number {
  return (model) => Number(repository.get(model)?.spec.parameters?.['max_model_len'] ?? MAX_MODEL_LEN);
}

const sendError = (res: ServerResponse, error: OpenAiError): void => replyJson(res, error.status, error.toBody());

/** The whole body; an oversized one is read to its end (so the answer can still be sent) and refused. */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) reject(new OpenAiError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
    req.on('close', () => reject(new Error('the client went away while sending the body')));
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`JSON decode error: ${(err as Error).message}`);
  }
}

async function readRequest(kind: CompletionKind, req: IncomingMessage, deps: OpenAiHttpDeps): Promise<OpenAiRequest> {
  const body = parseJson(await readBody(req));
  if (!deps.readiness.ready) throw new OpenAiError(503, NOT_READY);
  return parseOpenAiRequest(kind, body, openAiModels(deps.repository), maxModelLenOf(deps.repository));
}

async function complete(kind: CompletionKind, req: IncomingMessage, res: ServerResponse, deps: OpenAiHttpDeps): Promise<void> {
  // The request's own 'close' fires once its body is read; only the response's tells a disconnect.
  const controller = new AbortController();
  const route = kind === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  const span = deps.tracing?.start(`POST ${route}`, req.headers, { 'http.request.method': 'POST', 'http.route': route });
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('the client disconnected'));
    span?.end({ httpStatus: res.statusCode, attributes: { 'switchyard.dev.client_disconnected': !res.writableFinished } });
  });
  let request: OpenAiRequest;
  try {
    request = await readRequest(kind, req, deps);
  } catch (err) {
    sendError(res, asOpenAiError(err));
    return;
  }
  const head = responseHead(kind, request.model);
  const call: GenerationCall = { id: head.id, model: request.model, prompt: request.prompt, stream: request.stream, samplingJson: request.samplingJson };
  const { signal } = controller;

  if (!request.stream) {
    try {
      const outcome = await runGeneration(deps.engine, call, signal);
      replyJson(res, 200, completionBody(head, outcome.text, outcome.finishReason, usage(outcome.promptTokens, outcome.completionTokens)));
    } catch (err) {
      if (!signal.aborted) sendError(res, asOpenAiError(err));
    }
    return;
  }

  // Headers go out now, before the engine decides on faults: from here on a failure is an error event.
  const sse = new SseStream(res);
  sse.open();
  const chunks = new ChunkStream(sse, head, request.includeUsage);
  try {
    chunks.finish(await runGeneration(deps.engine, call, signal, (delta, last) => chunks.delta(delta, last)));
  } catch (err) {
    if (!signal.aborted) chunks.fail(asOpenAiError(err));
  }
}

function route(req: IncomingMessage, res: ServerResponse, deps: OpenAiHttpDeps): void | Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const method = req.method ?? 'GET';
  const get = method === 'GET' || method === 'HEAD';
  switch (path) {
    case '/health':
      if (get) return reply(res, deps.readiness.ready ? 200 : 503);
      break;
    case '/version':
      if (get) return replyJson(res, 200, { version: SERVER_VERSION });
      break;
    case '/metrics':
      if (get) return reply(res, 200, renderVllmMetrics(deps.repository.list().filter((m) => m.spec.backend === 'vllm')), METRICS_CONTENT_TYPE);
      break;
    case '/v1/models':
      if (get) return replyJson(res, 200, modelList(openAiModels(deps.repository), maxModelLenOf(deps.repository)));
      break;
    case '/v1/chat/completions':
      if (method === 'POST') return complete('chat', req, res, deps);
      break;
    case '/v1/completions':
      if (method === 'POST') return complete('completion', req, res, deps);
      break;
    default:
      // FastAPI's answers for an unknown route and a wrong method.
      return replyJson(res, 404, { detail: 'Not Found' });
  }
  res.setHeader('allow', path.startsWith('/v1/') && path !== '/v1/models' ? 'POST' : 'GET, HEAD');
  return replyJson(res, 405, { detail: 'Method Not Allowed' });
}

export function createOpenAiHttpServer(deps: OpenAiHttpDeps): Server {
  return createServer((req, res) => {
    Promise.resolve()
      .then(() => route(req, res, deps))
      .catch((err: unknown) => {
        if (!res.headersSent) sendError(res, new OpenAiError(500, err instanceof Error ? err.message : String(err)));
        else res.destroy();
      });
  });
}

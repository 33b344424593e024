// The dev runtime's HTTP port: Triton's health probes (200/400, empty body), Prometheus /metrics,
// and the dev-only /dev/faults (read/change faults at run time) and /dev/stats (per-model
// counters). Errors are {"error": "..."} like Triton's HTTP API.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { applyFaultPatch, FaultPatchError, readFaults, type FaultTargets } from './fault-settings.js';
import { reply, replyJson } from './http-reply.js';
import type { ModelRepository } from './model-repository.js';
import { hash32 } from './models/tiny-llm/tiny-llm-generator.js';
import { METRICS_CONTENT_TYPE, renderMetrics, type GpuGauge } from './prometheus-metrics.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface HttpControlDeps extends FaultTargets {
  repository: ModelRepository;
}

/** The profile's GPU, with a stable UUID-shaped id derived from the profile name. */
function simulatedGpu(repository: ModelRepository): GpuGauge | undefined {
  const { profile, gpu } = repository;
  if (profile === undefined) return undefined;
  const hex = hash32(profile.name).toString(16).padStart(8, '0');
  return { uuid: `GPU-${hex}-0000-4000-8000-${hex}0000`, utilization: () => gpu.utilization() };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new FaultPatchError(`body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function postFaults(req: IncomingMessage, res: ServerResponse, deps: HttpControlDeps): Promise<void> {
  let body: unknown;
  try {
    const text = await readBody(req);
    try {
      body = JSON.parse(text);
    } catch {
      throw new FaultPatchError('body is not valid JSON');
    }
    replyJson(res, 200, applyFaultPatch(body, deps));
  } catch (err) {
    replyJson(res, 400, { error: err instanceof Error ? err.message : String(err) });
  }
}

function route(req: IncomingMessage, res: ServerResponse, deps: HttpControlDeps): void | Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const method = req.method ?? 'GET';
  const get = method === 'GET' || method === 'HEAD';
  switch (path) {
    case '/v2/health/live':
      if (get) return reply(res, 200);
      break;
    case '/v2/health/ready':
      if (get) return reply(res, deps.readiness.ready ? 200 : 400);
      break;
    case '/metrics':
      if (get) return reply(res, 200, renderMetrics(deps.repository.list().map((m) => m.stats), simulatedGpu(deps.repository)), METRICS_CONTENT_TYPE);
      break;
    case '/dev/faults':
      if (get) return replyJson(res, 200, readFaults(deps));
      if (method === 'POST') return postFaults(req, res, deps);
      break;
    case '/dev/stats':
      if (get) {
        const models: Record<string, unknown> = {};
        for (const m of deps.repository.list()) models[m.spec.name] = m.stats.toDevCounters();
        return replyJson(res, 200, { models });
      }
      break;
    default:
      return replyJson(res, 404, { error: `no route for ${method} ${path}` });
  }
  res.setHeader('allow', path === '/dev/faults' ? 'GET, HEAD, POST' : 'GET, HEAD');
  return replyJson(res, 405, { error: `method ${method} not allowed on ${path}` });
}

export function createHttpControl(deps: HttpControlDeps): Server {
  return createServer((req, res) => {
    Promise.resolve()
      .then(() => route(req, res, deps))
      .catch((err: unknown) => {
        if (!res.headersSent) replyJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
        else res.destroy();
      });
  });
}

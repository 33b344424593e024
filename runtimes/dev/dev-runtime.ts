// Composition root of the dev runtime: builds models, engine and services from the options,
// binds the gRPC, HTTP control and OpenAI HTTP ports and returns a handle whose close() drains and
// stops all three.
import type { Server as HttpServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { healthProto, inferenceProto } from '../../router/core/grpc-definitions.js';
import { DEFAULT_OPTIONS, type DevRuntimeOptions } from './cli-options.js';
import { CostModel } from './cost-model.js';
import { FaultInjector } from './fault-injector.js';
import { HealthService } from './health-service.js';
import { createHttpControl } from './http-control.js';
import { InferenceEngine } from './inference-engine.js';
import { inferenceServiceHandlers } from './inference-service.js';
import { ModelRepository } from './model-repository.js';
import { getProfile, PROFILE_NAMES } from './profiles/index.js';
import { createOpenAiHttpServer } from './openai-http-server.js';
import { RuntimeTracing } from './runtime-tracing.js';
import { ServerReadiness } from './server-readiness.js';
import { StreamInferHandler } from './stream-infer-handler.js';

/** In-flight work gets this long to finish on close() before connections are cut. */
export const SHUTDOWN_GRACE_MS = 2000;

export const CRASH_EXIT_CODE = 70;

export interface StartDevRuntimeOptions extends Partial<DevRuntimeOptions> {
  /** What --crash-after does when it fires; by default the process exits at once with code 70. */
  onCrash?: () => void;
}

export interface DevRuntime {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly openaiPort: number;
  readonly options: Readonly<DevRuntimeOptions>;
  close(): Promise<void>;
}

function defaultCrash(): void {
  process.stderr.write(`dev runtime: --crash-after reached, exiting with code ${CRASH_EXIT_CODE}\n`);
  process.exit(CRASH_EXIT_CODE);
}

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function bindGrpc(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });
}

function listenHttp(server: HttpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function shutdownGrpc(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, SHUTDOWN_GRACE_MS);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

/** Connections whose last response finished during the grace period are closed as they go idle. */
const IDLE_SWEEP_MS = 50;

function shutdownHttp(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    // close() closes only the connections idle right now; a keep-alive connection whose response
    // (e.g. a long SSE stream) ends later would otherwise hold shutdown until the force timer.
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export async function startDevRuntime(input: StartDevRuntimeOptions = {}): Promise<DevRuntime> {
  const { onCrash = defaultCrash, ...overrides } = input;
  const options: DevRuntimeOptions = { ...DEFAULT_OPTIONS, models: [...DEFAULT_OPTIONS.models] };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (options as unknown as Record<string, unknown>)[key] = value;
  }

  const cost = new CostModel(options);
  const faults = new FaultInjector(options);
  const readiness = new ServerReadiness();
  const profile = options.profile === '' ? undefined : getProfile(options.profile);
  if (options.profile !== '' && profile === undefined) throw new Error(`unknown profile '${options.profile}'; known: ${PROFILE_NAMES.join(', ')}`);
  const repository = new ModelRepository(options, cost, { profile });
  const engine = new InferenceEngine(repository, faults, onCrash);
  const tracing = RuntimeTracing.create(options.otlpEndpoint);
  const stream = new StreamInferHandler(engine, repository, tracing);
  const health = new HealthService(readiness);

  const grpcServer = new grpc.Server({
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  grpcServer.addService(inferenceProto().inference.GRPCInferenceService.service, inferenceServiceHandlers({ repository, engine, readiness, stream, tracing }));
  grpcServer.addService(healthProto().grpc.health.v1.Health.service, health.handlers);
  const httpServer = createHttpControl({ repository, faults, cost, readiness });
  const openaiServer = createOpenAiHttpServer({ repository, engine, readiness, tracing });

  const grpcPort = await bindGrpc(grpcServer, hostPort(options.host, options.grpcPort));
  let httpPort: number;
  let openaiPort: number;
  try {
    httpPort = await listenHttp(httpServer, options.host, options.httpPort);
  } catch (err) {
    grpcServer.forceShutdown();
    throw err;
  }
  try {
    openaiPort = await listenHttp(openaiServer, options.host, options.openaiPort);
  } catch (err) {
    grpcServer.forceShutdown();
    httpServer.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    grpcPort,
    httpPort,
    openaiPort,
    options,
    close() {
      closing ??= (async () => {
        readiness.beginShutdown();
        engine.shutdown();
        stream.drain();
        health.drain();
        await Promise.all([shutdownGrpc(grpcServer), shutdownHttp(httpServer), shutdownHttp(openaiServer)]);
        // After the servers: the spans of requests that finished while draining are exported too.
        await tracing?.shutdown();
      })();
      return closing;
    },
  };
}

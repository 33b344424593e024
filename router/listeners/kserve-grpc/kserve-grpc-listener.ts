// The client gRPC listener (port 8001): one grpc-js server with inference.GRPCInferenceService
// (KServe V2 + Triton's additions) and grpc.health.v1, both answered through the model router.
// Owns binding, the message size limit, the open ModelStreamInfer calls, and graceful shutdown.
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { FastifyBaseLogger } from 'fastify';
import type { InFlightLimit } from '../../admission/in-flight-limit.js';
import type { TenantAdmission } from '../../admission/tenant-admission.js';
import { healthProto, inferenceProto } from '../../core/grpc-definitions.js';
import type { ModelRouter } from '../../routing/model-router.js';
import { NO_TELEMETRY, type RouterTelemetry } from '../../telemetry/create-telemetry.js';
import { healthHandlers } from './health-handlers.js';
import { inferenceHandlers } from './inference-handlers.js';
import { StreamInferSession, type StreamInferCall } from './stream-infer-session.js';
import { registerUnofferedRpcs } from './unoffered-rpcs.js';

export interface KserveGrpcOptions {
  readonly router: ModelRouter;
  readonly admission: InFlightLimit;
  readonly logger: FastifyBaseLogger;
  readonly serverName: string;
  readonly serverVersion: string;
  /** Read per request (a getter), so a reload applies it at once. */
  readonly maxTensorElements: number;
  /** Largest request message (limits.maxBodyBytes; grpc-js would otherwise cap it at 4 MiB). */
  readonly maxMessageBytes: number;
  /** Metrics, traces and the access log of ModelInfer and each ModelStreamInfer request. */
  readonly telemetry?: RouterTelemetry;
  /** API keys, tenants and their limits (absent: every call is anonymous and unlimited). */
  readonly tenantAdmission?: TenantAdmission;
}

/** Metadata and readiness probes get a short deadline: they must never hang a load balancer. */
const CONTROL_DEADLINE_MS = 5_000;

export class KserveGrpcListener {
  readonly #server: grpc.Server;
  readonly #sessions = new Set<StreamInferSession>();

  constructor(options: KserveGrpcOptions) {
    this.#server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': -1,
    });
    const limits = {
      get maxTensorElements() {
        return options.maxTensorElements;
      },
    };
    const streamOptions = {
      router: options.router,
      admission: options.admission,
      logger: options.logger,
      limits,
      telemetry: options.telemetry ?? NO_TELEMETRY,
      tenantAdmission: options.tenantAdmission,
    };
    this.#server.addService(inferenceProto().inference.GRPCInferenceService.service, {
      ...inferenceHandlers({ ...streamOptions, serverName: options.serverName, serverVersion: options.serverVersion, controlDeadlineMs: CONTROL_DEADLINE_MS }),
      ModelStreamInfer: (call: StreamInferCall) => {
        // The session may close inside its own constructor (a call already cancelled): then it is
        // never added, and the close callback must not touch the not-yet-assigned binding.
        let session: StreamInferSession | undefined;
        session = new StreamInferSession(call, streamOptions, () => {
          if (session !== undefined) this.#sessions.delete(session);
        });
        if (!session.closed) this.#sessions.add(session);
      },
    });
    registerUnofferedRpcs(this.#server, options.logger);
    this.#server.addService(healthProto().grpc.health.v1.Health.service, healthHandlers({ router: options.router, logger: options.logger, controlDeadlineMs: CONTROL_DEADLINE_MS, tenantAdmission: options.tenantAdmission }));
  }

  /** Binds host:port (port 0 = ephemeral) and answers the bound address. */
  listen(host: string, port: number): Promise<AddressInfo> {
    const hostPart = host.includes(':') ? `[${host}]` : host;
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(`${hostPart}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
        if (err) reject(err);
        else resolve({ address: host, family: host.includes(':') ? 'IPv6' : 'IPv4', port: bound });
      });
    });
  }

  /** Open ModelStreamInfer calls end as soon as their requests in flight are answered. */
  drain(): void {
    for (const session of [...this.#sessions]) session.drain();
  }

  /**
   * Stops accepting calls and lets running ones finish; after graceMs the rest are cut off.
   * Called after the admission drain, so by then normally nothing is left.
   */
  close(graceMs: number): Promise<void> {
    this.drain();
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}

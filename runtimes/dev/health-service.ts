// grpc.health.v1 for "" (the whole server) and "inference.GRPCInferenceService": SERVING while
// ready, NOT_SERVING otherwise. Unknown service: Check -> NOT_FOUND; Watch -> SERVICE_UNKNOWN and
// the stream stays open. Watch sends the current status at once and then every change.
import * as grpc from '@grpc/grpc-js';
import type { HealthHandlers } from '../../router/generated/grpc/health/v1/Health.js';
import type { HealthCheckRequest__Output } from '../../router/generated/grpc/health/v1/HealthCheckRequest.js';
import type { HealthCheckResponse } from '../../router/generated/grpc/health/v1/HealthCheckResponse.js';
import type { ServerReadiness } from './server-readiness.js';

export const HEALTH_SERVICES: readonly string[] = ['', 'inference.GRPCInferenceService'];

type Status = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export class HealthService {
  readonly #readiness: ServerReadiness;
  readonly #watchers = new Set<grpc.ServerWritableStream<HealthCheckRequest__Output, HealthCheckResponse>>();

  constructor(readiness: ServerReadiness) {
    this.#readiness = readiness;
  }

  #status(service: string): Status {
    if (!HEALTH_SERVICES.includes(service)) return 'SERVICE_UNKNOWN';
    return this.#readiness.ready ? 'SERVING' : 'NOT_SERVING';
  }

  /** Shutdown: end every Watch stream (the last status they saw is NOT_SERVING). */
  drain(): void {
    for (const call of this.#watchers) call.end();
    this.#watchers.clear();
  }

  readonly handlers: HealthHandlers = {
    Check: (call, callback) => {
      const status = this.#status(call.request.service);
      if (status === 'SERVICE_UNKNOWN') {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service: '${call.request.service}'` });
        return;
      }
      callback(null, { status });
    },
    Watch: (call) => {
      const service = call.request.service;
      let last = this.#status(service);
      call.write({ status: last });
      const onChange = (): void => {
        const now = this.#status(service);
        if (now !== last && !call.cancelled) {
          last = now;
          call.write({ status: now });
        }
      };
      this.#readiness.on('change', onChange);
      this.#watchers.add(call);
      const stop = (): void => {
        this.#readiness.off('change', onChange);
        this.#watchers.delete(call);
      };
      call.on('cancelled', stop);
      call.on('close', stop);
    },
  };
}

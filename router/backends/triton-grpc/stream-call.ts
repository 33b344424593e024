// One request on its own upstream ModelStreamInfer call: cancelling a Triton stream cancels every
// request on it, so requests never share one. Owns the call: metadata, deadline, client
// cancellation, errors, and when to cancel — only a call left before its final response.
import * as grpc from '@grpc/grpc-js';
import type { CallContext } from '../../core/call-context.js';
import type { Endpoint } from '../../core/endpoint.js';
import { SwitchyardError } from '../../core/errors.js';
import type { GRPCInferenceServiceClient } from '../../generated/inference/GRPCInferenceService.js';
import type { ModelInferRequest } from '../../generated/inference/ModelInferRequest.js';
import type { ModelStreamInferResponse__Output } from '../../generated/inference/ModelStreamInferResponse.js';
import { upstreamError } from './grpc-error.js';

/**
 * Every response of the one request, in order; upstream failures (a status, or an in-band
 * `error_message` from a Triton that ignores `triton_grpc_error`) are thrown as catalogue errors.
 * The call starts on the first `next()`.
 */
export async function* streamCall(
  client: GRPCInferenceServiceClient,
  endpoint: Endpoint,
  request: ModelInferRequest,
  ctx: CallContext,
): AsyncGenerator<ModelStreamInferResponse__Output, void, undefined> {
  if (ctx.signal.aborted) throw new SwitchyardError('SWY_ERR_REQUEST_CANCELLED', 'request cancelled by the client');
  const metadata = new grpc.Metadata();
  metadata.set('x-request-id', ctx.requestId);
  ctx.attempt?.inject((key, value) => metadata.set(key, value));
  // With one request per stream, ending the stream with the real status beats an in-band message.
  metadata.set('triton_grpc_error', 'true');
  const call = client.ModelStreamInfer(metadata, { deadline: new Date(ctx.deadline) });
  const onAbort = (): void => call.cancel();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let completed = false;
  call.write(request);
  call.end();
  try {
    for await (const message of call as AsyncIterable<ModelStreamInferResponse__Output>) {
      if (message.error_message !== '') {
        throw new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', message.error_message, { canonical: 'INTERNAL' });
      }
      if (message.infer_response?.parameters['triton_final_response']?.bool_param === true) completed = true;
      yield message;
    }
    completed = true;
  } catch (err) {
    if (isServiceError(err)) throw upstreamError(err, endpoint, ctx.signal.aborted);
    throw err;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    // Left early (client gone, error): stop the upstream now. After the final response the
    // server closes the stream itself; cancelling then would count as a cancellation there.
    if (!completed) call.cancel();
  }
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number' && 'metadata' in err;
}

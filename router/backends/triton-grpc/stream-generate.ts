// One text generation on its own ModelStreamInfer call (cancelling a Triton stream cancels every
// request on it, so requests never share one). The adapter profile builds the tensors and decodes
// each response; this file owns the call: deadline, client cancellation, end of stream, errors.
import * as grpc from '@grpc/grpc-js';
import { CHATML_TEMPLATE, renderChatPrompt, tritonLlmProfile } from '../../adapters/triton-llm/index.js';
import type { CallContext } from '../../core/call-context.js';
import type { Endpoint } from '../../core/endpoint.js';
import { SwitchyardError } from '../../core/errors.js';
import type { LlmEvent, LlmRequest, LlmResult, LlmUpstream } from '../../core/llm.js';
import type { GRPCInferenceServiceClient } from '../../generated/inference/GRPCInferenceService.js';
import type { ModelStreamInferResponse__Output } from '../../generated/inference/ModelStreamInferResponse.js';
import { upstreamError } from './grpc-error.js';

export async function streamGenerate(
  client: GRPCInferenceServiceClient,
  endpoint: Endpoint,
  request: LlmRequest,
  upstream: LlmUpstream,
  ctx: CallContext,
): Promise<LlmResult> {
  const profile = tritonLlmProfile(upstream.profile);
  const prompt =
    request.kind === 'chat'
      ? renderChatPrompt(upstream.chatTemplate ?? CHATML_TEMPLATE, request.messages ?? [], upstream.templateVariables)
      : (request.prompt ?? '');
  const inferRequest = profile.buildRequest({
    prompt,
    sampling: request.sampling,
    stream: request.stream,
    upstream: { model: upstream.model, version: upstream.version },
    id: ctx.requestId,
  });
  const decoder = profile.createDecoder(request.sampling, request.stream);
  if (ctx.signal.aborted) throw new SwitchyardError('SWY_ERR_REQUEST_CANCELLED', 'request cancelled by the client');

  const metadata = new grpc.Metadata();
  metadata.set('x-request-id', ctx.requestId);
  // With one request per stream, ending the stream with the real status beats an in-band message.
  metadata.set('triton_grpc_error', 'true');
  const call = client.ModelStreamInfer(metadata, { deadline: new Date(ctx.deadline) });
  let finished = false;
  const onAbort = (): void => call.cancel();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  call.write(inferRequest);
  call.end();

  async function* events(): AsyncGenerator<LlmEvent> {
    try {
      for await (const message of call as AsyncIterable<ModelStreamInferResponse__Output>) {
        if (message.error_message !== '') {
          // A Triton without triton_grpc_error support reports in band, without a status.
          throw new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', message.error_message, { canonical: 'INTERNAL' });
        }
        if (message.infer_response === null) continue;
        const { delta, end } = decoder.push(message.infer_response);
        if (delta !== '') yield { type: 'delta', text: delta };
        if (end !== undefined) {
          finished = true;
          yield { type: 'end', ...end };
          return;
        }
      }
      throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${endpoint.cluster}/${endpoint.address} ended the stream before the final response`);
    } catch (err) {
      if (isServiceError(err)) throw upstreamError(err, endpoint, ctx.signal.aborted);
      throw err;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      // Left early (client gone, error): stop the upstream now. After the final response the
      // server closes the stream itself; cancelling then would count as a cancellation there.
      if (!finished) call.cancel();
    }
  }

  const iterator = events();
  // Failures before the first result are thrown here, so the client still gets a proper status.
  const first = await iterator.next();
  return { kind: 'events', events: resume(first, iterator) };
}

async function* resume(first: IteratorResult<LlmEvent>, rest: AsyncGenerator<LlmEvent>): AsyncGenerator<LlmEvent> {
  if (first.done === true) return;
  yield first.value;
  yield* rest;
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number' && 'metadata' in err;
}

// One text generation on its own ModelStreamInfer call (stream-call.ts). The adapter profile builds
// the tensors and decodes each response into LlmEvents; this file owns the end of the generation.
import { CHATML_TEMPLATE, renderChatPrompt, tritonLlmProfile } from '../../adapters/triton-llm/index.js';
import type { CallContext } from '../../core/call-context.js';
import type { Endpoint } from '../../core/endpoint.js';
import { SwitchyardError } from '../../core/errors.js';
import type { LlmEvent, LlmRequest, LlmResult, LlmUpstream } from '../../core/llm.js';
import type { GRPCInferenceServiceClient } from '../../generated/inference/GRPCInferenceService.js';
import { afterFirstResult } from './after-first-result.js';
import { streamCall } from './stream-call.js';

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
  const responses = streamCall(client, endpoint, inferRequest, ctx);

  async function* events(): AsyncGenerator<LlmEvent, void, undefined> {
    // Leaving this loop (end, error, client gone) closes `responses`, which cancels the call unless
    // the upstream already sent its final response.
    for await (const message of responses) {
      if (message.infer_response === null) continue;
      const { delta, end } = decoder.push(message.infer_response);
      if (delta !== '') yield { type: 'delta', text: delta };
      if (end !== undefined) {
        yield { type: 'end', ...end };
        return;
      }
    }
    throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${endpoint.cluster}/${endpoint.address} ended the stream before the final response`);
  }

  return { kind: 'events', events: await afterFirstResult(events()) };
}

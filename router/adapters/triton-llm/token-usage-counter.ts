// Adds up token counts over a request's responses: the prompt count once, the completion count per response.
import { SwitchyardError } from '../../core/errors.js';
import type { LlmUsage } from '../../core/llm.js';
import type { ResponseTensors } from './response-tensors.js';

export class TokenUsageCounter {
  private promptTokens: number | undefined;
  private completionTokens: number | undefined;

  /** Every response repeats num_input_tokens; num_output_tokens counts the tokens of that response's text only. */
  add(tensors: ResponseTensors): void {
    this.promptTokens ??= tensors.count('num_input_tokens');
    const output = tensors.count('num_output_tokens');
    if (output !== undefined) this.completionTokens = (this.completionTokens ?? 0) + output;
  }

  /** Completion tokens so far (0 before any count arrived). */
  get completion(): number {
    return this.completionTokens ?? 0;
  }

  /** The totals at the end; both counts must have arrived in some response (the request asks for them). */
  usage(): LlmUsage {
    if (this.promptTokens === undefined) throw missing('num_input_tokens');
    if (this.completionTokens === undefined) throw missing('num_output_tokens');
    return { promptTokens: this.promptTokens, completionTokens: this.completionTokens };
  }
}

function missing(name: string): SwitchyardError {
  return new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', `upstream sent no output '${name}' in any response of the request`);
}

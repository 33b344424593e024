// Token usage read from an OpenAI-speaking upstream's relayed answer, for tenants whose tokens are
// metered (a token limit or a token price). The bytes are relayed untouched; this only looks at
// them: a non-streaming answer's `usage` near its end, a stream's `data:` lines (each content delta
// counted — vLLM sends one per token — and the usage chunk, when the client asked for
// stream_options.include_usage).
import { StringDecoder } from 'node:string_decoder';
import type { LlmUsage } from '../../core/llm.js';

/** How much of a non-streaming answer's end is kept to find `usage` in (vLLM writes it last but for a few small fields). */
const TAIL_CHARS = 16 * 1024;
/** A stream line longer than this is not looked at (no real SSE event is that long without a newline). */
const MAX_LINE_CHARS = 1024 * 1024;

const PROMPT_TOKENS = /"prompt_tokens"\s*:\s*(\d+)/;
const COMPLETION_TOKENS = /"completion_tokens"\s*:\s*(\d+)/;
const CONTENT_DELTA = /"(?:content|text)"\s*:\s*"(?!")/;

export class RelayUsage {
  readonly #streaming: boolean;
  readonly #decoder = new StringDecoder('utf8');
  #text = '';
  #usage: LlmUsage | undefined;

  constructor(streaming: boolean) {
    this.#streaming = streaming;
  }

  /** Looks at one relayed chunk; answers how many content deltas it completed (streams). */
  push(chunk: Buffer | string): number {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    if (!this.#streaming) {
      this.#text = (this.#text + text).slice(-TAIL_CHARS);
      return 0;
    }
    const lines = (this.#text + text).split('\n');
    const rest = lines.pop() ?? '';
    this.#text = rest.length > MAX_LINE_CHARS ? '' : rest;
    let deltas = 0;
    for (const line of lines) {
      if (!line.startsWith('data:')) continue;
      if (line.includes('"usage"')) this.#readUsage(line);
      if (CONTENT_DELTA.test(line)) deltas++;
    }
    return deltas;
  }

  /** The upstream's own usage, once seen; a non-streaming answer is read when it is complete. */
  usage(): LlmUsage | undefined {
    if (!this.#streaming && this.#usage === undefined) {
      const at = this.#text.lastIndexOf('"usage"');
      if (at >= 0) this.#readUsage(this.#text.slice(at));
    }
    return this.#usage;
  }

  #readUsage(text: string): void {
    const prompt = PROMPT_TOKENS.exec(text)?.[1];
    const completion = COMPLETION_TOKENS.exec(text)?.[1];
    if (prompt !== undefined && completion !== undefined) this.#usage = { promptTokens: Number(prompt), completionTokens: Number(completion) };
  }
}

// The order of one streamed completion's events: (chat) the role chunk with the first output, one
// content chunk per generated delta, the finish chunk (carrying the last delta, as vLLM's does),
// the usage chunk when asked for, [DONE]; or,
// on a failure, an error event and [DONE]. Backpressure: while the socket is backed up, deltas are
// merged into one pending text and written as a single chunk once it drains (vLLM's output
// collector merges deltas for a slow reader the same way), so generation never waits on the client
// and memory never holds more than the text itself.
import type { FinishReason } from './models/tiny-llm/tiny-llm-generator.js';
import type { OpenAiError } from './openai-errors.js';
import { contentChunk, roleChunk, usage, usageChunk, type ResponseHead } from './openai-responses.js';
import type { SseStream } from './openai-sse.js';

export interface StreamEnd {
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

export class ChunkStream {
  readonly #sse: SseStream;
  readonly #head: ResponseHead;
  readonly #includeUsage: boolean;
  #started = false;
  #ended = false;
  #pending = '';

  constructor(sse: SseStream, head: ResponseHead, includeUsage: boolean) {
    this.#sse = sse;
    this.#head = head;
    this.#includeUsage = includeUsage;
  }

  /**
   * Text generated since the previous call; may be empty (a token held back as a possible stop
   * string). The `last` one waits for finish(), which sends it with the finish reason.
   */
  delta(text: string, last = false): void {
    if (this.#ended) return;
    this.#start();
    this.#pending += text;
    if (!last) this.#flush();
  }

  finish(end: StreamEnd): void {
    if (this.#ended) return;
    this.#start();
    this.#ended = true;
    this.#sse.event(contentChunk(this.#head, this.#pending, end.finishReason));
    this.#pending = '';
    if (this.#includeUsage) this.#sse.event(usageChunk(this.#head, usage(end.promptTokens, end.completionTokens)));
    this.#sse.done();
  }

  /** Headers are out, so the status cannot change: an error event, then [DONE] (as vLLM does). */
  fail(error: OpenAiError): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#pending !== '') this.#sse.event(contentChunk(this.#head, this.#pending));
    this.#pending = '';
    this.#sse.event(error.toBody());
    this.#sse.done();
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#head.kind === 'chat') this.#sse.event(roleChunk(this.#head));
  }

  #flush(): void {
    if (this.#ended || this.#pending === '') return;
    if (this.#sse.backedUp) {
      this.#sse.whenDrained(() => this.#flush());
      return;
    }
    this.#sse.event(contentChunk(this.#head, this.#pending));
    this.#pending = '';
  }
}

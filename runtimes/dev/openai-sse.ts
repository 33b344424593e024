// Server-sent events on a node:http response, framed as vLLM frames them: headers flushed at once
// (so a client's create() resolves before the first token), every event `data: <one-line JSON>\n\n`
// written as soon as it exists, and `data: [DONE]\n\n` before the end. Exposes the socket's
// backpressure (backedUp / whenDrained) so the producer can hold text instead of queueing writes.
import type { ServerResponse } from 'node:http';

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

export class SseStream {
  readonly #res: ServerResponse;
  #drainWaiter: (() => void) | undefined;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  open(): void {
    this.#res.writeHead(200, { 'content-type': SSE_CONTENT_TYPE });
    this.#res.flushHeaders();
  }

  /** The client went away or the stream was ended: further events are dropped. */
  get closed(): boolean {
    return this.#res.destroyed || this.#res.writableEnded;
  }

  /** The socket has not taken the last write yet; more writes would only queue in memory. */
  get backedUp(): boolean {
    return this.#res.writableNeedDrain;
  }

  /** Calls `fn` once the socket drains; one waiter at a time (a later call replaces it). */
  whenDrained(fn: () => void): void {
    const first = this.#drainWaiter === undefined;
    this.#drainWaiter = fn;
    if (!first) return;
    this.#res.once('drain', () => {
      const waiter = this.#drainWaiter;
      this.#drainWaiter = undefined;
      waiter?.();
    });
  }

  event(data: unknown): void {
    if (!this.closed) this.#res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  /** `data: [DONE]` and the end of the response. */
  done(): void {
    if (!this.closed) this.#res.end('data: [DONE]\n\n');
  }
}

// Cuts streamed text at the first stop string, for upstreams that keep stop strings in their output (OpenAI drops them).
//
// "First" stop string means the first to be completed (smallest end; on a tie the one starting earlier), as a
// generator checking after every token would see it; that makes the result independent of how the text is chunked.
// Invariant: what push() and finish() return, concatenated, is exactly the full text cut before that stop string.
// To keep it, any trailing text that could still grow into a stop string is held back until the next chunk decides.

export class StopStringCutter {
  private readonly stops: readonly string[];
  private held = '';
  private found = false;

  constructor(stops: readonly string[]) {
    // An empty stop string would match before the first character; OpenAI-compatible servers ignore it.
    this.stops = stops.filter((stop) => stop.length > 0);
  }

  /** True once a stop string was found; everything after it is dropped. */
  get stopped(): boolean {
    return this.found;
  }

  /** The next chunk of upstream text; returns the text that is safe to emit now. */
  push(chunk: string): string {
    if (this.found) return '';
    const text = this.held + chunk;
    const cut = this.firstStop(text);
    if (cut >= 0) {
      this.found = true;
      this.held = '';
      return text.slice(0, cut);
    }
    const keep = this.longestStopPrefixSuffix(text);
    this.held = text.slice(text.length - keep);
    return text.slice(0, text.length - keep);
  }

  /** At the end of the text: whatever was held back never became a stop string, so it is emitted. */
  finish(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }

  /** Start of the first-completed stop string in text, or -1. */
  private firstStop(text: string): number {
    let start = -1;
    let end = Infinity;
    for (const stop of this.stops) {
      const at = text.indexOf(stop);
      if (at < 0) continue;
      const stopEnd = at + stop.length;
      if (stopEnd < end || (stopEnd === end && at < start)) {
        start = at;
        end = stopEnd;
      }
    }
    return start;
  }

  /** Length of the longest suffix of text that is a proper prefix of some stop string. */
  private longestStopPrefixSuffix(text: string): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let length = Math.min(stop.length - 1, text.length); length > longest; length--) {
        if (text.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}

// tiny-llm's deterministic "language model": each token is a word with a leading space, drawn
// from a fixed vocabulary by a PRNG seeded from sampling `seed` if given, else from a hash of the
// prompt. Each prompt has a natural length (24..64 tokens) at which it ends with "stop".
// Per step, in this order: a stop string in the generated text ends it with "stop" (the text is
// cut before the stop string unless includeStopStrInOutput); reaching the natural length ends it
// with "stop" (unless ignoreEos); reaching maxTokens ends it with "length". The first two wait
// until minTokens tokens exist. While running, the last (longest stop string - 1) characters are
// held back so a delta never leaks part of a stop string; the deltas always concatenate to the
// final text.

export const VOCABULARY: readonly string[] = [
  'the', 'a', 'river', 'stone', 'light', 'morning', 'quiet', 'city', 'road', 'window',
  'garden', 'winter', 'summer', 'bright', 'slow', 'green', 'silver', 'ocean', 'forest', 'cloud',
  'bridge', 'lantern', 'harbor', 'meadow', 'signal', 'engine', 'router', 'packet', 'model', 'tensor',
  'batch', 'queue', 'token', 'stream', 'north', 'south', 'east', 'west', 'and', 'of',
  'under', 'over', 'near', 'far', 'softly', 'again', 'always', 'never', 'small', 'large',
  'warm', 'cold', 'old', 'new', 'blue', 'red', 'golden', 'hidden', 'open', 'closed',
  'echo', 'paper', 'clock', 'mirror',
];

export const MIN_NATURAL_LENGTH = 24;
export const MAX_NATURAL_LENGTH = 64;

/** FNV-1a over the UTF-8 bytes. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: a small, well-mixed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function naturalLength(prompt: string): number {
  const span = MAX_NATURAL_LENGTH - MIN_NATURAL_LENGTH + 1;
  return MIN_NATURAL_LENGTH + (mulberry32(hash32(prompt) ^ 0x9e3779b9)() * span | 0);
}

/** Any integer seed (negative or beyond 32 bits included) folded into 32 bits. */
function seed32(seed: number): number {
  const folded = seed % 4294967296;
  return (folded < 0 ? folded + 4294967296 : folded) >>> 0;
}

export type FinishReason = 'stop' | 'length';

export interface GenerationStep {
  /** Text released by this step; may be empty while a possible stop string is held back. */
  delta: string;
  finishReason: FinishReason | null;
}

export interface GenerationOptions {
  maxTokens: number;
  stop: readonly string[];
  seed?: number | undefined;
  /** Keep generating past the natural length (vLLM's ignore_eos). */
  ignoreEos?: boolean;
  includeStopStrInOutput?: boolean;
  /** Neither a stop string nor the natural end can finish the text before this many tokens. */
  minTokens?: number;
}

export class TinyLlmGeneration {
  readonly naturalLength: number;
  readonly #random: () => number;
  readonly #options: GenerationOptions;
  readonly #stops: string[];
  readonly #holdBack: number;
  #text = '';
  #final: string | undefined;
  #finishReason: FinishReason | null = null;
  #emitted = 0;
  #tokens = 0;

  constructor(prompt: string, options: GenerationOptions) {
    this.naturalLength = naturalLength(prompt);
    this.#random = mulberry32(options.seed === undefined ? hash32(prompt) : seed32(options.seed));
    this.#options = options;
    this.#stops = options.stop.filter((s) => s !== '');
    this.#holdBack = Math.max(0, ...this.#stops.map((s) => s.length - 1));
  }

  get tokens(): number {
    return this.#tokens;
  }

  get finished(): boolean {
    return this.#final !== undefined;
  }

  get finishReason(): FinishReason | null {
    return this.#finishReason;
  }

  /** The whole generated text so far (final text once finished). */
  get text(): string {
    return this.#final ?? this.#text;
  }

  step(): GenerationStep {
    if (this.#final !== undefined) throw new Error('generation already finished');
    const searchFrom = Math.max(0, this.#text.length - this.#holdBack);
    const word = VOCABULARY[Math.floor(this.#random() * VOCABULARY.length)] as string;
    this.#text += ` ${word}`;
    this.#tokens++;

    let stopAt = -1;
    let stopLen = 0;
    const mayStop = this.#tokens >= (this.#options.minTokens ?? 0);
    for (const stop of mayStop ? this.#stops : []) {
      const at = this.#text.indexOf(stop, searchFrom);
      if (at !== -1 && (stopAt === -1 || at < stopAt)) {
        stopAt = at;
        stopLen = stop.length;
      }
    }
    if (stopAt !== -1) return this.#finish('stop', this.#text.slice(0, this.#options.includeStopStrInOutput === true ? stopAt + stopLen : stopAt));
    if (mayStop && this.#options.ignoreEos !== true && this.#tokens >= this.naturalLength) return this.#finish('stop', this.#text);
    if (this.#tokens >= this.#options.maxTokens) return this.#finish('length', this.#text);

    const safeEnd = Math.max(this.#emitted, this.#text.length - this.#holdBack);
    const delta = this.#text.slice(this.#emitted, safeEnd);
    this.#emitted = safeEnd;
    return { delta, finishReason: null };
  }

  #finish(reason: FinishReason, text: string): GenerationStep {
    this.#final = text;
    this.#finishReason = reason;
    const delta = text.slice(this.#emitted);
    this.#emitted = text.length;
    return { delta, finishReason: reason };
  }
}

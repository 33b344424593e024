// LLM prefix affinity: requests sharing the first `prefixChars` characters of the prompt (system
// prompt, few-shot examples, a long document) go to the same endpoint, whose KV cache already holds
// that prefix (vLLM automatic prefix caching, TRT-LLM KV reuse). It is the approximate, router-side
// variant of llm-d's prefix scorer and vLLM production-stack's `prefixaware`: no KV events, just a hash.
// When the preferred endpoint is over the load bound, the request goes to the least busy of the
// others by P2C — not to the next ring endpoint, whose cache is as cold as anyone's.
import type { RoutingFacts } from '../../core/call-context.js';
import type { PickerConfig } from '../../config/schema.js';
import { boundedLoadCapacity } from './bounded-load.js';
import { CandidateRing } from './candidate-ring.js';
import { hashString } from '../../core/hash-string.js';
import { LeastRequestPicker } from './least-request-picker.js';
import type { EndpointLoad, Picker, Random } from './picker.js';

export type PrefixAffinityConfig = Extract<PickerConfig, { type: 'prefix-affinity' }>;

const always = (): boolean => true;

export class PrefixAffinityPicker implements Picker {
  readonly #prefixChars: number;
  readonly #loadFactor: number;
  readonly #ring: CandidateRing;
  readonly #fallback: LeastRequestPicker;

  constructor(config: Pick<PrefixAffinityConfig, 'prefixChars' | 'loadFactor'>, random: Random = Math.random, virtualNodes?: number) {
    if (!Number.isInteger(config.prefixChars) || config.prefixChars < 1) throw new RangeError(`prefixChars must be a positive integer, got ${config.prefixChars}`);
    if (!(config.loadFactor >= 1)) throw new RangeError(`loadFactor must be at least 1, got ${config.loadFactor}`);
    this.#prefixChars = config.prefixChars;
    this.#loadFactor = config.loadFactor;
    this.#ring = new CandidateRing(virtualNodes);
    this.#fallback = new LeastRequestPicker({ choices: 2 }, random);
  }

  /** Rings built so far (a pick over an unchanged candidate set never rebuilds). */
  get ringBuilds(): number {
    return this.#ring.builds;
  }

  pick(candidates: readonly EndpointLoad[], facts: RoutingFacts | undefined): EndpointLoad | undefined {
    const prompt = facts?.promptPrefix;
    if (prompt === undefined || prompt === '' || candidates.length <= 1) return this.#fallback.pick(candidates);
    const preferred = this.#ring.walk(candidates, hashString(prompt.slice(0, this.#prefixChars)), always);
    if (preferred === undefined) return this.#fallback.pick(candidates);
    if (preferred.inFlight < boundedLoadCapacity(candidates, this.#loadFactor)) return preferred;
    return this.#fallback.pick(candidates.filter((c) => c !== preferred));
  }
}

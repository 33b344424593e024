// Consistent hashing with bounded load: a key (a header, or the OpenAI `user`) sticks to one endpoint
// so its state there (sessions, KV cache, LoRA adapters) is reused, unless that endpoint is over the
// load bound — then the key spills clockwise to the next endpoint on the ring that is under it, so a
// hot key cannot melt one replica. Requests without a key are balanced by P2C.
import { headerValue, type RoutingFacts } from '../../core/call-context.js';
import type { PickerConfig } from '../../config/schema.js';
import { boundedLoadCapacity } from './bounded-load.js';
import { CandidateRing } from './candidate-ring.js';
import { hashString } from '../../core/hash-string.js';
import { LeastRequestPicker } from './least-request-picker.js';
import type { EndpointLoad, Picker, Random } from './picker.js';

export type ConsistentHashConfig = Extract<PickerConfig, { type: 'consistent-hash' }>;

export class ConsistentHashPicker implements Picker {
  readonly #key: (facts: RoutingFacts | undefined) => string | undefined;
  readonly #loadFactor: number;
  readonly #ring: CandidateRing;
  readonly #fallback: LeastRequestPicker;

  constructor(config: Pick<ConsistentHashConfig, 'key' | 'loadFactor'>, random: Random = Math.random, virtualNodes?: number) {
    if (!(config.loadFactor >= 1)) throw new RangeError(`loadFactor must be at least 1, got ${config.loadFactor}`);
    const key = config.key;
    if ('header' in key) {
      const header = key.header.toLowerCase();
      this.#key = (facts) => headerValue(facts, header);
    } else {
      this.#key = (facts) => facts?.user;
    }
    this.#loadFactor = config.loadFactor;
    this.#ring = new CandidateRing(virtualNodes);
    this.#fallback = new LeastRequestPicker({ choices: 2 }, random);
  }

  /** Rings built so far (a pick over an unchanged candidate set never rebuilds). */
  get ringBuilds(): number {
    return this.#ring.builds;
  }

  pick(candidates: readonly EndpointLoad[], facts: RoutingFacts | undefined): EndpointLoad | undefined {
    const key = this.#key(facts);
    // An empty key is no key: otherwise every request with an empty header would pile onto one endpoint.
    if (key === undefined || key === '' || candidates.length <= 1) return this.#fallback.pick(candidates);
    const capacity = boundedLoadCapacity(candidates, this.#loadFactor);
    return this.#ring.walk(candidates, hashString(key), (c) => c.inFlight < capacity) ?? this.#fallback.pick(candidates);
  }
}

// The hash ring as seen from one pick's candidates. It keeps one HashRing and reuses it while every
// candidate is on it, skipping ring endpoints that are not candidates this time (tried, ejected,
// unhealthy) — which gives exactly the answer a ring of the candidates alone would (see hash-ring.ts)
// without rebuilding on every retry or health flap. It rebuilds when a candidate is missing from the
// ring (discovery added one), keeping the absent endpoints, and drops them once more of the ring is
// absent than present (and more than MAX_STALE_ENDPOINTS), to keep walks short.
import { HashRing } from './hash-ring.js';
import type { EndpointLoad } from './picker.js';

/** Rebuild to the current candidates once more than this many ring endpoints (and more than there are candidates) are absent. */
const MAX_STALE_ENDPOINTS = 8;

export class CandidateRing {
  readonly #virtualNodes: number | undefined;
  #ring: HashRing | undefined;
  #builds = 0;
  /** Ring endpoint index → candidate index for the pick in progress, -1 when absent. Reused scratch. */
  #slot = new Int32Array(0);

  constructor(virtualNodes?: number) {
    this.#virtualNodes = virtualNodes;
  }

  /** How many rings were built so far (tests check that picks do not rebuild). */
  get builds(): number {
    return this.#builds;
  }

  /**
   * Walks clockwise from `hash` over the candidates' points and returns the first candidate that
   * `accept`s, each endpoint considered once; undefined when none does (or there are no candidates).
   */
  walk(candidates: readonly EndpointLoad[], hash: number, accept: (candidate: EndpointLoad) => boolean): EndpointLoad | undefined {
    if (candidates.length === 0) return undefined;
    const ring = this.#ringFor(candidates);
    const slot = this.#slot;
    const points = ring.pointCount;
    let remaining = candidates.length;
    for (let step = 0, p = ring.firstPointAt(hash); step < points && remaining > 0; step++, p = p + 1 === points ? 0 : p + 1) {
      const owner = ring.ownerOf(p);
      const at = slot[owner] ?? -1;
      if (at < 0) continue;
      slot[owner] = -1; // considered: later points of the same endpoint are skipped
      remaining--;
      const candidate = candidates[at];
      if (candidate !== undefined && accept(candidate)) return candidate;
    }
    return undefined;
  }

  /** The ring to walk, with #slot filled for these candidates. */
  #ringFor(candidates: readonly EndpointLoad[]): HashRing {
    const current = this.#ring;
    if (current !== undefined && this.#fill(current, candidates) && !this.#tooStale(current.size, candidates.length)) return current;
    // A new address: keep the endpoints absent right now (they may be back on the next pick) unless too many are.
    const addresses = new Set(candidates.map((c) => c.endpoint.address));
    const union = new Set([...(current?.addresses ?? []), ...addresses]);
    const ring = new HashRing(this.#tooStale(union.size, addresses.size) ? addresses : union, this.#virtualNodes);
    this.#ring = ring;
    this.#builds++;
    this.#fill(ring, candidates);
    return ring;
  }

  #tooStale(ringSize: number, present: number): boolean {
    return ringSize - present > Math.max(MAX_STALE_ENDPOINTS, present);
  }

  /** Maps ring endpoints to candidate indices; false when a candidate is not on the ring. */
  #fill(ring: HashRing, candidates: readonly EndpointLoad[]): boolean {
    if (this.#slot.length !== ring.size) this.#slot = new Int32Array(ring.size);
    this.#slot.fill(-1);
    for (let i = 0; i < candidates.length; i++) {
      const owner = ring.indexOf(candidates[i]?.endpoint.address ?? '');
      if (owner < 0) return false;
      this.#slot[owner] = i;
    }
    return true;
  }
}

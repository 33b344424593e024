// An immutable consistent-hash ring: each endpoint owns `virtualNodes` points, so removing one moves
// only the keys it owned and the others' shares stay within a few percent of even.
// A point's position depends only on its own endpoint's address, never on who else is on the ring,
// and points are totally ordered (hash, then address, then replica): walking a ring clockwise and
// skipping absent endpoints therefore meets endpoints in exactly the order a ring built from the
// present endpoints alone would. CandidateRing relies on this.
import { hashString, mix32 } from '../../core/hash-string.js';

export const VIRTUAL_NODES_PER_ENDPOINT = 100;
/** Golden-ratio increment: spreads an endpoint's replica indices before mixing. */
const REPLICA_STEP = 0x9e3779b9;

export class HashRing {
  /** Endpoint index → address, sorted. */
  readonly addresses: readonly string[];
  /** Ring positions, ascending. */
  readonly #points: Uint32Array;
  /** Endpoint index owning each point. */
  readonly #owners: Uint32Array;
  readonly #index: ReadonlyMap<string, number>;

  constructor(addresses: Iterable<string>, virtualNodes = VIRTUAL_NODES_PER_ENDPOINT) {
    if (!Number.isInteger(virtualNodes) || virtualNodes < 1) throw new RangeError(`virtualNodes must be a positive integer, got ${virtualNodes}`);
    this.addresses = Object.freeze([...new Set(addresses)].sort());
    this.#index = new Map(this.addresses.map((a, i) => [a, i]));
    const points: { hash: number; owner: number; replica: number }[] = [];
    this.addresses.forEach((address, owner) => {
      const base = hashString(address);
      for (let replica = 0; replica < virtualNodes; replica++) {
        points.push({ hash: mix32((base + Math.imul(replica + 1, REPLICA_STEP)) >>> 0), owner, replica });
      }
    });
    // Owners are indices into the sorted addresses, so (hash, owner, replica) orders by address too.
    points.sort((x, y) => x.hash - y.hash || x.owner - y.owner || x.replica - y.replica);
    this.#points = Uint32Array.from(points, (p) => p.hash);
    this.#owners = Uint32Array.from(points, (p) => p.owner);
  }

  get size(): number {
    return this.addresses.length;
  }

  get pointCount(): number {
    return this.#points.length;
  }

  /** The endpoint index of `address`, or -1. */
  indexOf(address: string): number {
    return this.#index.get(address) ?? -1;
  }

  /** The first point at or clockwise after `hash` (wrapping past the top). */
  firstPointAt(hash: number): number {
    let lo = 0;
    let hi = this.#points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#points[mid] ?? 0) < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.#points.length ? 0 : lo;
  }

  /** The endpoint index owning point `point` (0 ≤ point < pointCount). */
  ownerOf(point: number): number {
    return this.#owners[point] ?? 0;
  }
}

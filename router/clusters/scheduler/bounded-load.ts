// The load bound of "consistent hashing with bounded loads" (Mirrokni, Thorup, Zadimoghaddam, 2016;
// Google Cloud Pub/Sub, HAProxy hash-balance-factor): no endpoint takes a new request while it has
// `capacity` in flight, where capacity = ceil(loadFactor × (total in flight + 1) / endpoints).
// The +1 counts the request being placed. Since loadFactor ≥ 1, the least busy candidate is always
// under the bound, so a bounded walk always finds someone.
import type { EndpointLoad } from './picker.js';

/** Float noise (1.1 × 10 / 11 = 1.0000000000000002) must not round a whole capacity up. */
const EPSILON = 1e-9;

export function boundedLoadCapacity(candidates: readonly EndpointLoad[], loadFactor: number): number {
  let total = 0;
  for (const c of candidates) total += c.inFlight;
  return Math.ceil((loadFactor * (total + 1)) / Math.max(1, candidates.length) - EPSILON);
}

// The picker contract: choose one endpoint from candidates the cluster has already filtered
// (healthy, not ejected, under the breaker, not yet tried). A pick is synchronous and never awaits.
import type { RoutingFacts } from '../../core/call-context.js';
import type { Endpoint } from '../../core/endpoint.js';

/** A candidate and its requests in flight, as counted by the cluster at the moment of the pick. */
export interface EndpointLoad {
  readonly endpoint: Endpoint;
  readonly inFlight: number;
}

export interface Picker {
  /** Returns undefined only when `candidates` is empty. */
  pick(candidates: readonly EndpointLoad[], facts: RoutingFacts | undefined): EndpointLoad | undefined;
}

/** A source of uniform numbers in [0, 1), injectable so tests are deterministic. */
export type Random = () => number;

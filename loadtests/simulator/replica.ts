// The contract between the simulation and one model-server replica (a GPU pod): the simulation
// owns time, routing and accounting; a replica only queues, executes and reports back through
// its host. Both replica models (vision-replica.ts, llm-replica.ts) implement it.

/** One client request in flight inside the simulation. */
export interface SimRequest {
  /** Arrival at the router, seconds. */
  readonly arrival: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  /** Arrival at the replica (after the router, possibly after waiting at the breaker). */
  enqueued: number;
  /** LLM: when the first token was produced; vision: unused. */
  firstToken: number;
  /** The router-side slot (endpoint) holding this request; set by the router. */
  slot: unknown;
}

export interface ReplicaHost {
  /** Run `replica.onTimer(kind, payload)` at virtual time `time`. */
  schedule(time: number, replica: Replica, kind: number, payload: unknown): void;
  /** LLM only: first token out. */
  firstToken(request: SimRequest, now: number): void;
  /** The response is complete (vision: the result; LLM: the last token). */
  complete(request: SimRequest, now: number): void;
}

export interface Replica {
  readonly kind: 'vision' | 'llm';
  enqueue(request: SimRequest, now: number): void;
  onTimer(kind: number, payload: unknown, now: number): void;
  /** Requests accepted and not yet complete (queued + executing). */
  readonly outstanding: number;
  /** What the server's queue metric reports: Triton pending requests / vLLM requests waiting. */
  readonly queued: number;
  /** The pod is killed (termination grace period over): drop everything, ignore pending timers; returns what was lost. */
  abort(): SimRequest[];
  /** Seconds of GPU busy time (≥ 1 execution or engine step running) up to `now`. */
  busySeconds(now: number): number;
}

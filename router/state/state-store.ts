// Shared state for limits across router replicas. Admission talks only to this interface; the
// memory store serves one router, the Redis store (atomic Lua scripts) makes N routers enforce one
// limit, and the outage policy decides what happens when Redis is away.
//
// Limits are sliding-window LOGS of weighted entries: each admitted request leaves an entry
// (id, time, cost) in its window; a request is admitted when the costs still inside the window plus
// its own fit under the limit. Exact (no burst at window edges, no refill estimate), and an entry's
// cost can be changed afterwards — which is how a token reservation is settled to the real usage.
// Memory is bounded by admitted requests per window, never by rejected ones.

export interface WindowTake {
  readonly allowed: boolean;
  readonly limit: number;
  /** What is left in the window after this take (when allowed) or now (when not). */
  readonly remaining: number;
  /** Milliseconds until enough of the window has expired for this take to fit (0 when allowed). */
  readonly retryAfterMs: number;
  /** Milliseconds until the window is fully clear of current entries (OpenAI's x-ratelimit-reset-*). */
  readonly resetMs: number;
}

export interface LeaseTake {
  readonly allowed: boolean;
  readonly limit: number;
  /** Leases held after this take (when allowed) or now (when not). */
  readonly current: number;
}

export interface StateStore {
  /** Adds entry `id` with `cost` to the window `key` if it fits under `limit` within the last `windowMs`. */
  take(key: string, id: string, cost: number, limit: number, windowMs: number): Promise<WindowTake>;
  /** Changes the cost of an entry already in the window (settling a reservation); a no-op once it has expired. */
  settle(key: string, id: string, cost: number, windowMs: number): Promise<void>;
  /** A concurrency slot: lease `id` on `key` while fewer than `limit` are held; it expires by itself after `ttlMs` (a crashed router's leases heal). */
  acquire(key: string, id: string, limit: number, ttlMs: number): Promise<LeaseTake>;
  release(key: string, id: string): Promise<void>;
  /** For /metrics and /readyz: 'memory', or the Redis connection state. */
  readonly status: StateStatus;
  close(): Promise<void>;
}

export type StateStatus = 'memory' | 'connected' | 'connecting' | 'disconnected';

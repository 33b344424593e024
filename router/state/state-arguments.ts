// Argument checks shared by every StateStore, so the memory and Redis stores refuse the same calls.
// Costs are whole numbers: the Redis store keeps exact integer sums (no float drift in the total).
// A bad argument is a caller bug (a TypeError/RangeError), never a StateUnavailableError.

function assertKeyAndId(key: string, id: string): void {
  if (key === '') throw new TypeError('state key must not be empty');
  if (id === '') throw new TypeError('state entry id must not be empty');
}

function assertDuration(name: string, ms: number): void {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`${name} must be a positive whole number of milliseconds, got ${ms}`);
}

function assertCost(cost: number): void {
  if (!Number.isSafeInteger(cost) || cost < 0) throw new RangeError(`cost must be a whole number ≥ 0, got ${cost}`);
}

function assertLimit(limit: number): void {
  if (!Number.isFinite(limit)) throw new RangeError(`limit must be a finite number, got ${limit}`);
}

export function assertTakeArgs(key: string, id: string, cost: number, limit: number, windowMs: number): void {
  assertKeyAndId(key, id);
  assertCost(cost);
  assertLimit(limit);
  assertDuration('windowMs', windowMs);
}

export function assertSettleArgs(key: string, id: string, cost: number, windowMs: number): void {
  assertKeyAndId(key, id);
  assertCost(cost);
  assertDuration('windowMs', windowMs);
}

export function assertAcquireArgs(key: string, id: string, limit: number, ttlMs: number): void {
  assertKeyAndId(key, id);
  assertLimit(limit);
  assertDuration('ttlMs', ttlMs);
}

export function assertReleaseArgs(key: string, id: string): void {
  assertKeyAndId(key, id);
}

// The state store a config asks for: memory (one router), or Redis wrapped in the outage policy.
import { MemoryStateStore } from './memory-state-store.js';
import type { ObservedStateStore } from './observed-state-store.js';
import { RedisStateStore } from './redis-state-store.js';
import { ResilientStateStore, type OutagePolicy } from './resilient-state-store.js';
import type { StateLogger } from './state-logger.js';

export type StateConfig =
  | { readonly kind: 'memory' }
  | {
      readonly kind: 'redis';
      readonly url: string;
      readonly keyPrefix?: string;
      readonly opTimeoutMs?: number;
      readonly outage?: OutagePolicy;
      readonly localLimitShare?: number;
    };

export function createStateStore(config: StateConfig, logger: StateLogger): ObservedStateStore {
  if (config.kind === 'memory') return new MemoryStateStore();
  const redis = new RedisStateStore({ url: config.url, keyPrefix: config.keyPrefix, opTimeoutMs: config.opTimeoutMs, logger });
  return new ResilientStateStore(redis, { outage: config.outage, localLimitShare: config.localLimitShare, logger });
}

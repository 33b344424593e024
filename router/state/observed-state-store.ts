// What the router reads from a state store besides the StateStore contract: its kind and health for
// switchyard_state_store_up{kind}, and per-op counts for switchyard_state_fallback_total{op}.
import type { StateStore } from './state-store.js';

export type StateOp = 'take' | 'settle' | 'acquire' | 'release';
export const STATE_OPS: readonly StateOp[] = ['take', 'settle', 'acquire', 'release'];

export interface ObservedStateStore extends StateStore {
  readonly kind: 'memory' | 'redis';
  /** The shared store is answering (always true for memory): switchyard_state_store_up{kind}. */
  readonly up: boolean;
  /** Ops of this kind the shared store did not serve (served locally, rejected, or dropped): switchyard_state_fallback_total{op}. */
  fallbackTotal(op: StateOp): number;
  /** Resolves true once the store can serve (at once for memory), false when `timeoutMs` passes first. */
  ready(timeoutMs: number): Promise<boolean>;
}

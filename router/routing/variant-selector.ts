// Which variant of a route serves one request: a matching header rule forces one; else a sticky key
// fixes the point the weighted pick lands on; else the pick is random. Pure: no clock, no I/O.
import { headerValue, type RoutingFacts } from '../core/call-context.js';
import { hashString } from '../core/hash-string.js';
import type { HashKeyConfig } from '../config/schema.js';
import type { Route, Variant } from './route-table.js';
import { weightedPick } from './weighted-pick.js';

const TWO_TO_32 = 2 ** 32;

export function selectVariant(route: Route, facts: RoutingFacts | undefined, random: () => number = Math.random): Variant {
  for (const rule of route.match) {
    if (rule.headers.every(([name, value]) => headerValue(facts, name) === value)) return rule.variant;
  }
  const key = route.sticky === undefined ? undefined : stickyKey(route.sticky, facts);
  if (key !== undefined) {
    const point = stickyPoint(route.model, key);
    return weightedPick(route.variants, () => point);
  }
  return weightedPick(route.variants, random);
}

/** The request's sticky key; an empty value is no key (else every such request would share one variant). */
export function stickyKey(sticky: HashKeyConfig, facts: RoutingFacts | undefined): string | undefined {
  const key = 'header' in sticky ? headerValue(facts, sticky.header) : facts?.user;
  return key === '' ? undefined : key;
}

/**
 * A key's fixed point in [0, 1). Because the weighted pick walks the variants in config order, a
 * weight change moves only the keys between the old and new boundaries (≈ the change in share).
 * The model name salts the hash: clusters hash the same key for consistent-hash endpoint choice,
 * and an unsalted point would hand each variant's cluster only keys from one arc of its ring.
 */
export function stickyPoint(model: string, key: string): number {
  return hashString(`${model}\u0000${key}`) / TWO_TO_32;
}

// Variant selection: weights, header rules, sticky keys — table-driven, no sockets, seeded randomness.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashString } from '../../../router/core/hash-string.js';
import { configSchema } from '../../../router/config/schema.js';
import type { RoutingFacts } from '../../../router/core/call-context.js';
import { RouteTable, type Route } from '../../../router/routing/route-table.js';
import { selectVariant, stickyPoint } from '../../../router/routing/variant-selector.js';
import { binomialBounds, seededRandom } from '../../helpers/seeded-random.js';

const CLUSTERS = {
  stable: { backend: 'triton-grpc', endpoints: ['127.0.0.1:1'] },
  canary: { backend: 'triton-grpc', endpoints: ['127.0.0.1:2'] },
};

function routeOf(model: Record<string, unknown>): Route {
  const config = configSchema.parse({ clusters: CLUSTERS, models: { iris: model } });
  return new RouteTable(config.models).resolve('iris');
}

function canarySplit(canaryWeight = 10, extra: Record<string, unknown> = {}): Route {
  return routeOf({
    split: [
      { name: 'stable', cluster: 'stable', weight: 90 },
      { name: 'canary', cluster: 'canary', weight: canaryWeight },
    ],
    ...extra,
  });
}

const facts = (headers: Record<string, string | string[]>, user?: string): RoutingFacts => ({ headers, ...(user === undefined ? {} : { user }) });
const always = (value: number) => () => value;
const keys = (n: number) => Array.from({ length: n }, (_, i) => `session-${i}`);

describe('weighted split', () => {
  test('90/10 over 10,000 seeded selections: stable lands in [8,820, 9,180] (±6σ, σ = √(n·p·(1−p)) = 30)', () => {
    assert.deepEqual(binomialBounds(10_000, 0.9), [8_820, 9_180]);
    const route = canarySplit();
    const random = seededRandom(1);
    let stable = 0;
    for (let i = 0; i < 10_000; i++) if (selectVariant(route, facts({}), random).name === 'stable') stable++;
    assert.ok(stable >= 8_820 && stable <= 9_180, `stable ${stable}`);
  });

  test('a single variant is always chosen and named "default" when unnamed', () => {
    const route = routeOf({ split: [{ cluster: 'stable' }] });
    assert.equal(selectVariant(route, facts({}), always(0.999)).name, 'default');
  });
});

describe('header rules', () => {
  const route = canarySplit(10, {
    match: [
      { headers: { 'X-Canary': 'yes' }, variant: 'canary' },
      { headers: { 'x-tenant': 'acme', 'x-tier': 'beta' }, variant: 'canary' },
      { headers: { 'x-tenant': 'acme' }, variant: 'stable' },
    ],
    sticky: { header: 'x-session-id' },
  });

  const cases: { name: string; headers: Record<string, string | string[]>; random: number; expect: string }[] = [
    { name: 'a matching rule overrides the weights (random says stable)', headers: { 'x-canary': 'yes' }, random: 0, expect: 'canary' },
    { name: 'the rule names its header in any case; requests carry it lower-case', headers: { 'x-canary': 'yes' }, random: 0.5, expect: 'canary' },
    { name: 'values compare exactly', headers: { 'x-canary': 'Yes' }, random: 0, expect: 'stable' },
    { name: 'a repeated header is matched on its first value', headers: { 'x-canary': ['yes', 'no'] }, random: 0, expect: 'canary' },
    { name: 'every header of a rule must match', headers: { 'x-tier': 'beta' }, random: 0, expect: 'stable' },
    { name: 'the first matching rule wins', headers: { 'x-tenant': 'acme', 'x-tier': 'beta' }, random: 0, expect: 'canary' },
    { name: 'a later rule applies when earlier ones do not match', headers: { 'x-tenant': 'acme' }, random: 0.95, expect: 'stable' },
    { name: 'no rule matches: the weights decide', headers: {}, random: 0.95, expect: 'canary' },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(selectVariant(route, facts(c.headers), always(c.random)).name, c.expect));
  }

  test('a header rule wins over a sticky key', () => {
    const stableKey = keys(1_000).find((k) => selectVariant(route, facts({ 'x-session-id': k }), Math.random).name === 'stable');
    assert.ok(stableKey !== undefined);
    assert.equal(selectVariant(route, facts({ 'x-session-id': stableKey, 'x-canary': 'yes' }), Math.random).name, 'canary');
  });
});

describe('sticky keys', () => {
  test('10,000 header keys × 5 picks with different random sources: no key ever changes variant; canary share in [820, 1,180] (±6σ)', () => {
    assert.deepEqual(binomialBounds(10_000, 0.1), [820, 1_180]);
    const route = canarySplit(10, { sticky: { header: 'X-Session-Id' } });
    const sources = [always(0), always(0.999), seededRandom(2), seededRandom(3), Math.random];
    let canary = 0;
    for (const key of keys(10_000)) {
      const first = selectVariant(route, facts({ 'x-session-id': key }), always(0.5)).name;
      for (const random of sources) assert.equal(selectVariant(route, facts({ 'x-session-id': key }), random).name, first, key);
      if (first === 'canary') canary++;
    }
    assert.ok(canary >= 820 && canary <= 1_180, `canary ${canary}`);
  });

  test('the OpenAI user field as key: the same user always gets the same variant', () => {
    const route = canarySplit(50, { sticky: { openaiUser: true } });
    for (const user of keys(500)) {
      const first = selectVariant(route, facts({}, user), always(0)).name;
      assert.equal(selectVariant(route, facts({}, user), always(0.999)).name, first);
    }
  });

  test('no key, or an empty one, falls back to the weighted random pick', () => {
    const route = canarySplit(10, { sticky: { header: 'x-session-id' } });
    assert.equal(selectVariant(route, facts({}), always(0.95)).name, 'canary');
    assert.equal(selectVariant(route, facts({}), always(0.05)).name, 'stable');
    assert.equal(selectVariant(route, facts({ 'x-session-id': '' }), always(0.95)).name, 'canary');
    assert.equal(selectVariant(route, undefined, always(0.95)).name, 'canary');
  });

  test('canary 10 → 20: only stable→canary moves, about 20/110 − 10/100 ≈ 8.18 % of 10,000 keys, in [653, 983] (±6σ)', () => {
    const share = 20 / 110 - 10 / 100;
    assert.deepEqual(binomialBounds(10_000, share), [653, 983]);
    const before = canarySplit(10, { sticky: { header: 'x-session-id' } });
    const after = canarySplit(20, { sticky: { header: 'x-session-id' } });
    let moved = 0;
    for (const key of keys(10_000)) {
      const a = selectVariant(before, facts({ 'x-session-id': key })).name;
      const b = selectVariant(after, facts({ 'x-session-id': key })).name;
      if (a === b) continue;
      assert.deepEqual([a, b], ['stable', 'canary'], `${key} moved the wrong way`);
      moved++;
    }
    assert.ok(moved >= 653 && moved <= 983, `moved ${moved}`);
  });

  test("a variant's keys are spread evenly over the cluster's own key hash (the sticky point is salted)", () => {
    // Clusters hash the same header for consistent-hash endpoint choice; if the variant point were that
    // same hash, the canary cluster would only ever see keys from one tenth of its ring.
    const route = canarySplit(10, { sticky: { header: 'x-session-id' } });
    const quarters = [0, 0, 0, 0];
    for (const key of keys(20_000)) {
      if (selectVariant(route, facts({ 'x-session-id': key })).name !== 'canary') continue;
      const q = Math.floor((hashString(key) / 2 ** 32) * 4);
      quarters[q] = (quarters[q] ?? 0) + 1;
    }
    const n = quarters.reduce((a, b) => a + b, 0);
    const [low, high] = binomialBounds(n, 0.25);
    for (const count of quarters) assert.ok(count >= low && count <= high, `quarters ${quarters.join(',')} (bounds ${low}..${high})`);
  });

  test('sticky points lie in [0, 1) and depend on the model', () => {
    for (const key of keys(1_000)) {
      const p = stickyPoint('iris', key);
      assert.ok(p >= 0 && p < 1);
    }
    assert.notEqual(stickyPoint('iris', 'k'), stickyPoint('resnet', 'k'));
  });
});

describe('route table', () => {
  test('carries match, sticky, mirror and retry from config', () => {
    const route = canarySplit(10, {
      match: [{ headers: { 'X-Canary': '1' }, variant: 'canary' }],
      sticky: { header: 'X-Session-Id' },
      mirror: { to: { cluster: 'canary', upstreamModel: 'iris-next' }, percent: 5 },
      retry: { maxRetries: 1 },
      timeoutMs: 1_500,
    });
    assert.deepEqual(route.match.map((r) => [r.headers, r.variant.name]), [[[['x-canary', '1']], 'canary']]);
    assert.deepEqual(route.sticky, { header: 'x-session-id' });
    assert.deepEqual(route.mirror, { cluster: 'canary', upstreamModel: 'iris-next', upstreamVersion: '', percent: 5 });
    assert.equal(route.retry.maxRetries, 1);
    assert.equal(route.timeoutMs, 1_500);
    assert.ok(Object.isFrozen(route) && Object.isFrozen(route.match) && Object.isFrozen(route.variants));
  });

  test('a mirror without upstreamModel mirrors to the client-facing model name', () => {
    const route = canarySplit(10, { mirror: { to: { cluster: 'canary' }, percent: 100 } });
    assert.equal(route.mirror?.upstreamModel, 'iris');
  });
});

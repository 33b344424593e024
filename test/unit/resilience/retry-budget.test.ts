import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RetryBudget } from '../../../router/resilience/retry-budget.js';

function inFlight(budget: RetryBudget, n: number): Array<() => void> {
  return Array.from({ length: n }, () => budget.request());
}

test('10 requests in flight at 20 %: two retries allowed, the third denied', () => {
  const budget = new RetryBudget({ budgetPercent: 20, minRetryConcurrency: 0 });
  inFlight(budget, 10);
  const first = budget.tryRetry();
  const second = budget.tryRetry();
  assert.equal(typeof first, 'function');
  assert.equal(typeof second, 'function');
  assert.equal(budget.tryRetry(), undefined);
  assert.deepEqual(budget.stats, { retries: 2, denied: 1 });
});

test('allowed concurrent retries = max(minRetryConcurrency, budgetPercent % of requests in flight)', () => {
  const cases: Array<{ requests: number; percent: number; min: number; allowed: number }> = [
    { requests: 10, percent: 20, min: 0, allowed: 2 },
    { requests: 10, percent: 20, min: 3, allowed: 3 },
    { requests: 100, percent: 20, min: 3, allowed: 20 },
    { requests: 7, percent: 20, min: 0, allowed: 1 }, // 1.4 → 1
    { requests: 4, percent: 20, min: 0, allowed: 0 }, // 0.8 → 0
    { requests: 0, percent: 20, min: 3, allowed: 3 }, // nothing in flight: the floor still holds
    { requests: 0, percent: 100, min: 0, allowed: 0 },
    { requests: 5, percent: 100, min: 0, allowed: 5 },
    { requests: 1000, percent: 0, min: 2, allowed: 2 },
    { requests: 3, percent: 33.4, min: 0, allowed: 1 },
  ];
  for (const { requests, percent, min, allowed } of cases) {
    const budget = new RetryBudget({ budgetPercent: percent, minRetryConcurrency: min });
    inFlight(budget, requests);
    let granted = 0;
    while (budget.tryRetry() !== undefined && granted <= requests + min) granted++;
    assert.equal(granted, allowed, `${requests} in flight, ${percent} %, min ${min}`);
    assert.deepEqual(budget.stats, { retries: allowed, denied: 1 });
  }
});

test('releasing a retry gives its room back; a double release gives back nothing more', () => {
  const budget = new RetryBudget({ budgetPercent: 20, minRetryConcurrency: 0 });
  inFlight(budget, 10);
  const first = budget.tryRetry();
  assert.ok(first !== undefined && budget.tryRetry() !== undefined);
  assert.equal(budget.tryRetry(), undefined);
  first();
  first();
  assert.notEqual(budget.tryRetry(), undefined);
  assert.equal(budget.tryRetry(), undefined);
  assert.deepEqual(budget.stats, { retries: 3, denied: 2 });
});

test('requests ending shrink the allowance; a double request release counts once', () => {
  const budget = new RetryBudget({ budgetPercent: 20, minRetryConcurrency: 1 });
  const done = inFlight(budget, 10);
  for (const end of done.slice(0, 5)) {
    end();
    end();
  }
  // 5 in flight at 20 % = 1, which the floor of 1 also allows: one retry, not two.
  assert.notEqual(budget.tryRetry(), undefined);
  assert.equal(budget.tryRetry(), undefined);
  for (const end of done.slice(5)) end();
  assert.equal(budget.tryRetry(), undefined);
});

test('retries in flight do not count as requests, so they never raise their own allowance', () => {
  const budget = new RetryBudget({ budgetPercent: 50, minRetryConcurrency: 0 });
  inFlight(budget, 4);
  assert.notEqual(budget.tryRetry(), undefined);
  assert.notEqual(budget.tryRetry(), undefined);
  assert.equal(budget.tryRetry(), undefined);
});

test('stats are cumulative and read-only snapshots', () => {
  const budget = new RetryBudget({ budgetPercent: 0, minRetryConcurrency: 1 });
  const before = budget.stats;
  budget.tryRetry()?.();
  budget.tryRetry()?.();
  assert.equal(budget.tryRetry() !== undefined, true);
  assert.equal(budget.tryRetry(), undefined);
  assert.deepEqual(before, { retries: 0, denied: 0 });
  assert.deepEqual(budget.stats, { retries: 3, denied: 1 });
});

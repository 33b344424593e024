// OpenAI's rate-limit headers: names, values, and resets written as Go durations like api.openai.com.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, rateLimitHeaders, tightest } from '../../../router/admission/rate-limit-headers.js';

test('durations as Go prints them, at millisecond precision (rounded up)', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [-5, '0s'],
    [0.2, '1ms'],
    [20, '20ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [1250, '1.25s'],
    [1004, '1.004s'],
    [59_999, '59.999s'],
    [60_000, '1m0s'],
    [360_000, '6m0s'],
    [61_500, '1m1.5s'],
    [3_600_000, '1h0m0s'],
    [3_723_004, '1h2m3.004s'],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
});

test('headers for the windows there are, remaining never negative', () => {
  assert.deepEqual(rateLimitHeaders({}), {});
  assert.deepEqual(rateLimitHeaders({ requests: { limit: 60, remaining: 59, resetMs: 60_000 } }), {
    'x-ratelimit-limit-requests': '60',
    'x-ratelimit-remaining-requests': '59',
    'x-ratelimit-reset-requests': '1m0s',
  });
  assert.deepEqual(rateLimitHeaders({ tokens: { limit: 1000, remaining: -3, resetMs: 250 } }), {
    'x-ratelimit-limit-tokens': '1000',
    'x-ratelimit-remaining-tokens': '0',
    'x-ratelimit-reset-tokens': '250ms',
  });
});

test('the tightest window: least remaining, then the smaller limit', () => {
  assert.equal(tightest([]), undefined);
  const a = { limit: 100, remaining: 10, resetMs: 1 };
  const b = { limit: 20, remaining: 5, resetMs: 2 };
  const c = { limit: 10, remaining: 5, resetMs: 3 };
  assert.equal(tightest([a, b, c]), c);
  assert.equal(tightest([a]), a);
});

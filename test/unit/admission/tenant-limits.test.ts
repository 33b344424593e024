// Limit decisions over the store contract (a fake store on a hand-driven clock): requests per
// minute, token reservations settled to real usage, concurrency leases, per-glob scopes on top of
// the tenant's own, the 429 with Retry-After and x-ratelimit-*, and refusals that cost nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TenantLimits, WINDOW_MS } from '../../../router/admission/tenant-limits.js';
import { Tenant } from '../../../router/admission/tenant.js';
import { configSchema } from '../../../router/config/schema.js';
import { SwitchyardError } from '../../../router/core/errors.js';
import { FakeStateStore, flush } from './fake-state-store.js';

function tenant(limits: Record<string, unknown>): Tenant {
  const config = configSchema.parse({ clusters: {}, models: {}, tenants: { acme: { limits } } });
  return new Tenant('acme', config.tenants.acme!);
}

let ids = 0;
const limitsOn = (store: FakeStateStore) => new TenantLimits(store, () => `id-${++ids}`);

async function refusal(promise: Promise<unknown>): Promise<SwitchyardError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SwitchyardError, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

describe('TenantLimits', () => {
  test('requestsPerMinute: admits the limit, then 429 with Retry-After, retry-after-ms and x-ratelimit-*; admits again as the window slides', async () => {
    const store = new FakeStateStore();
    const limits = limitsOn(store);
    const acme = tenant({ requestsPerMinute: 3 });
    const admit = () => limits.admit({ tenant: 'acme', scopes: acme.scopesFor('iris'), leaseTtlMs: 1000 });
    const first = await admit();
    assert.deepEqual(first.headers, { 'x-ratelimit-limit-requests': '3', 'x-ratelimit-remaining-requests': '2', 'x-ratelimit-reset-requests': '1m0s' });
    store.now = 10_000;
    await admit();
    store.now = 20_500;
    const third = await admit();
    assert.equal(third.headers['x-ratelimit-remaining-requests'], '0');
    assert.equal(third.headers['x-ratelimit-reset-requests'], '39.5s', 'until the oldest entry leaves');
    store.now = 30_000;
    const err = await refusal(admit());
    assert.equal(err.code, 'SWY_ERR_ADMIT_RATE_LIMITED');
    assert.equal(err.httpStatus, 429);
    assert.equal(err.retryAfterS, 30, 'the first entry leaves at 60 s');
    assert.deepEqual(err.headers, {
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '30s',
      'retry-after-ms': '30000',
    });
    assert.match(err.message, /tenant 'acme' is over its limit: requestsPerMinute 3/);
    store.now = 60_000;
    await admit();
  });

  test('tokensPerMinute: the reservation counts until settled to the real usage', async () => {
    const store = new FakeStateStore();
    const limits = limitsOn(store);
    const acme = tenant({ tokensPerMinute: 1000 });
    const scopes = acme.scopesFor('llm');
    const grant = await limits.admit({ tenant: 'acme', scopes, tokens: 600, leaseTtlMs: 1000 });
    assert.equal(grant.headers['x-ratelimit-remaining-tokens'], '400');
    assert.equal(grant.headers['x-ratelimit-limit-requests'], undefined, 'no request limit, no request headers');
    const err = await refusal(limits.admit({ tenant: 'acme', scopes, tokens: 500, leaseTtlMs: 1000 }));
    assert.equal(err.headers?.['x-ratelimit-remaining-tokens'], '400');
    grant.settleTokens(120);
    grant.settleTokens(999); // once
    await flush();
    assert.equal(store.used('tenant:acme:tpm'), 120);
    const next = await limits.admit({ tenant: 'acme', scopes, tokens: 500, leaseTtlMs: 1000 });
    assert.equal(next.headers['x-ratelimit-remaining-tokens'], '380');
  });

  test('V2 requests (no tokens) never touch the token window', async () => {
    const store = new FakeStateStore();
    await limitsOn(store).admit({ tenant: 'acme', scopes: tenant({ tokensPerMinute: 10, requestsPerMinute: 5 }).scopesFor('iris'), leaseTtlMs: 1000 });
    assert.deepEqual(store.calls, ['take tenant:acme:rpm 1/5']);
  });

  test('a reservation larger than the whole limit is a 400 on max_tokens, before the store is asked', async () => {
    const store = new FakeStateStore();
    const err = await refusal(limitsOn(store).admit({ tenant: 'acme', scopes: tenant({ tokensPerMinute: 100 }).scopesFor('llm'), tokens: 101, leaseTtlMs: 1000 }));
    assert.equal(err.code, 'SWY_ERR_INPUT_INVALID_FIELD');
    assert.equal(err.param, 'max_tokens');
    assert.deepEqual(store.calls, []);
  });

  test('concurrentRequests: leases with the given ttl, released once; a full set → 429 after 1 s', async () => {
    const store = new FakeStateStore();
    const limits = limitsOn(store);
    const scopes = tenant({ concurrentRequests: 1 }).scopesFor('iris');
    const grant = await limits.admit({ tenant: 'acme', scopes, leaseTtlMs: 5000 });
    assert.deepEqual(grant.headers, {}, 'concurrency has no OpenAI header');
    const err = await refusal(limits.admit({ tenant: 'acme', scopes, leaseTtlMs: 5000 }));
    assert.equal(err.retryAfterS, 1);
    assert.match(err.message, /concurrentRequests 1/);
    grant.release();
    grant.release();
    await flush();
    assert.equal(store.held('tenant:acme:concurrent'), 0);
    await limits.admit({ tenant: 'acme', scopes, leaseTtlMs: 5000 });
  });

  test('per-glob limits apply beside the tenant\'s own; a refusal by one gives back what the others took', async () => {
    const store = new FakeStateStore();
    const limits = limitsOn(store);
    const acme = tenant({ requestsPerMinute: 100, concurrentRequests: 10, models: { 'llama-*': { requestsPerMinute: 1 }, '*-8b': { tokensPerMinute: 50 } } });
    assert.deepEqual(acme.scopesFor('llama-3-8b').map((s) => s.key), ['tenant:acme', 'tenant:acme:model:llama-*', 'tenant:acme:model:*-8b']);
    assert.deepEqual(acme.scopesFor('iris').map((s) => s.key), ['tenant:acme']);
    const scopes = acme.scopesFor('llama-3-8b');
    const grant = await limits.admit({ tenant: 'acme', scopes, tokens: 10, leaseTtlMs: 1000 });
    assert.equal(grant.headers['x-ratelimit-limit-requests'], '1', 'the tightest request window');
    assert.equal(grant.headers['x-ratelimit-remaining-requests'], '0');
    assert.equal(grant.headers['x-ratelimit-limit-tokens'], '50');

    const err = await refusal(limits.admit({ tenant: 'acme', scopes, tokens: 10, leaseTtlMs: 1000 }));
    assert.match(err.message, /requestsPerMinute 1 for models 'llama-\*'/);
    await flush();
    assert.equal(store.used('tenant:acme:rpm'), 1, 'the refused request left nothing in the tenant window');
    assert.equal(store.used('tenant:acme:model:*-8b:tpm'), 10);
    assert.equal(store.held('tenant:acme:concurrent'), 1, 'its lease was released');
    // Another model is not under the llama glob.
    await limits.admit({ tenant: 'acme', scopes: acme.scopesFor('iris'), leaseTtlMs: 1000 });
  });

  test('a store failure (failClosed) is passed on after giving back what was taken', async () => {
    const store = new FakeStateStore();
    const unavailable = new SwitchyardError('SWY_ERR_INTERNAL', 'state store down');
    store.failing.set('tenant:acme:concurrent', unavailable);
    const scopes = tenant({ requestsPerMinute: 5, concurrentRequests: 2 }).scopesFor('iris');
    await assert.rejects(limitsOn(store).admit({ tenant: 'acme', scopes, leaseTtlMs: 1000 }), (err) => err === unavailable);
    await flush();
    assert.equal(store.used('tenant:acme:rpm'), 0);
  });

  test('refund: window entries cost nothing, leases are freed', async () => {
    const store = new FakeStateStore();
    const grant = await limitsOn(store).admit({ tenant: 'acme', scopes: tenant({ requestsPerMinute: 5, tokensPerMinute: 100, concurrentRequests: 2 }).scopesFor('m'), tokens: 40, leaseTtlMs: 1000 });
    grant.refund();
    await flush();
    assert.equal(store.used('tenant:acme:rpm'), 0);
    assert.equal(store.used('tenant:acme:tpm'), 0);
    assert.equal(store.held('tenant:acme:concurrent'), 0);
  });

  test('takes go out together (one round trip), not one after another', async () => {
    let pending = 0;
    let most = 0;
    const store = new FakeStateStore();
    const take = store.take.bind(store);
    store.take = async (...args) => {
      pending++;
      most = Math.max(most, pending);
      await flush();
      pending--;
      return take(...args);
    };
    await limitsOn(store).admit({ tenant: 'acme', scopes: tenant({ requestsPerMinute: 5, tokensPerMinute: 100 }).scopesFor('m'), tokens: 1, leaseTtlMs: 1000 });
    assert.equal(most, 2);
    assert.equal(WINDOW_MS, 60_000);
  });
});

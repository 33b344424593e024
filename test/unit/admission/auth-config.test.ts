// The auth, tenants and state config blocks: defaults, one bad value per field named by its path.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateConfig } from '../../../router/config/load-config.js';

const HASH = 'a'.repeat(64);
const base = { clusters: {}, models: {} };

function issues(document: Record<string, unknown>): string {
  try {
    validateConfig({ ...base, ...document });
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('expected the config to be refused');
}

describe('auth / tenants / state config', () => {
  test('defaults: auth off, no tenants, memory state; a tenant allows every model and has no limits', () => {
    const config = validateConfig({ ...base, tenants: { acme: {} } });
    assert.deepEqual(config.auth, { enabled: false, keys: [], headerName: 'x-api-key', unauthorizedModel: 'forbidden', admin: { keys: [] } });
    assert.deepEqual(config.state, { kind: 'memory' });
    assert.deepEqual(config.tenants.acme, { models: ['*'], limits: { models: {} } });
  });

  test('digests are lower-cased; header names too', () => {
    const config = validateConfig({ ...base, auth: { enabled: true, headerName: 'X-Key', keys: [{ sha256: 'AB'.repeat(32), tenant: 'acme' }] }, tenants: { acme: {} } });
    assert.equal(config.auth.keys[0]?.sha256, 'ab'.repeat(32));
    assert.equal(config.auth.headerName, 'x-key');
  });

  test('each bad value is named by its path', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ auth: { keys: [{ sha256: HASH, tenant: 'nobody' }] }, tenants: { acme: {} } }, /auth\.keys\[0\]\.tenant: unknown tenant "nobody" \(defined: acme\)/],
      [{ auth: { keys: [{ sha256: 'abc', tenant: 'acme' }] }, tenants: { acme: {} } }, /auth\.keys\[0\]\.sha256: must be the 64 hex digits/],
      [{ auth: { keys: [{ sha256: `${'g'.repeat(64)}`, tenant: 'acme' }] }, tenants: { acme: {} } }, /auth\.keys\[0\]\.sha256/],
      [{ auth: { keys: [{ sha256: HASH, tenant: 'acme' }, { sha256: HASH.toUpperCase(), tenant: 'acme' }] }, tenants: { acme: {} } }, /auth\.keys\[1\]\.sha256: the same key as auth\.keys\[0\]/],
      [{ auth: { key: [] } }, /auth\.key: unknown key/],
      [{ auth: { unauthorizedModel: 'hidden' } }, /auth\.unauthorizedModel/],
      [{ auth: { admin: { keys: [{ sha256: 'x' }] } } }, /auth\.admin\.keys\[0\]\.sha256/],
      [{ tenants: { _acme: {} } }, /tenants\._acme/],
      [{ tenants: { acme: { models: [] } } }, /tenants\.acme\.models/],
      [{ tenants: { acme: { models: ['llama 3'] } } }, /tenants\.acme\.models\[0\]/],
      [{ tenants: { acme: { limits: { requestsPerMinute: 0 } } } }, /tenants\.acme\.limits\.requestsPerMinute/],
      [{ tenants: { acme: { limits: { tokensPerMinute: 1.5 } } } }, /tenants\.acme\.limits\.tokensPerMinute/],
      [{ tenants: { acme: { limits: { models: { 'llama-*': { rpm: 1 } } } } } }, /tenants\.acme\.limits\.models\.llama-\*\.rpm: unknown key/],
      [{ tenants: { acme: { price: { perInference: -1 } } } }, /tenants\.acme\.price\.perInference/],
      [{ state: { kind: 'redis' } }, /state\.url/],
      [{ state: { kind: 'redis', url: 'http://x' } }, /state\.url: must be a redis/],
      [{ state: { kind: 'redis', url: 'redis://x', outage: 'panic' } }, /state\.outage/],
      [{ state: { kind: 'redis', url: 'redis://x', localLimitShare: 0 } }, /state\.localLimitShare/],
      [{ state: { kind: 'etcd' } }, /state/],
    ];
    for (const [document, pattern] of cases) assert.match(issues(document), pattern, JSON.stringify(document));
  });

  test('a Redis state with every option', () => {
    const config = validateConfig({ ...base, state: { kind: 'redis', url: 'redis://:pw@redis:6379/1', keyPrefix: 'prod', opTimeoutMs: 20, outage: 'failClosed', localLimitShare: 0.25 } });
    assert.equal(config.state.kind, 'redis');
  });
});

// API keys: where each protocol carries one, the digest a config holds (what sha256sum prints),
// and the lookup: by digest, with the final comparison timing-safe, for hits and misses alike.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { describe, mock, test } from 'node:test';
import { ApiKeyAuth, extractApiKey, keyDigest } from '../../../router/admission/api-key-auth.js';

const KEY = 'sk-test-4f9c2e1a';
const hex = (key: string): string => keyDigest(key).toString('hex');

describe('extractApiKey', () => {
  test('OpenAI: only Authorization: Bearer (scheme case-insensitive, surrounding blanks ignored)', () => {
    assert.equal(extractApiKey({ authorization: `Bearer ${KEY}` }, 'openai', 'x-api-key'), KEY);
    assert.equal(extractApiKey({ authorization: `bearer   ${KEY} ` }, 'openai', 'x-api-key'), KEY);
    assert.equal(extractApiKey({ 'x-api-key': KEY }, 'openai', 'x-api-key'), undefined);
    assert.equal(extractApiKey({ authorization: `Basic ${KEY}` }, 'openai', 'x-api-key'), undefined);
    assert.equal(extractApiKey({ authorization: 'Bearer' }, 'openai', 'x-api-key'), undefined);
    assert.equal(extractApiKey({ authorization: 'Bearer a b' }, 'openai', 'x-api-key'), undefined);
    assert.equal(extractApiKey({}, 'openai', 'x-api-key'), undefined);
  });

  test('V2 REST: Bearer, else the configured header (first value)', () => {
    assert.equal(extractApiKey({ authorization: `Bearer ${KEY}` }, 'kserve-rest', 'x-api-key'), KEY);
    assert.equal(extractApiKey({ 'x-api-key': KEY }, 'kserve-rest', 'x-api-key'), KEY);
    assert.equal(extractApiKey({ 'x-tenant-key': ` ${KEY} ` }, 'kserve-rest', 'x-tenant-key'), KEY);
    assert.equal(extractApiKey({ 'x-api-key': [KEY, 'other'] }, 'kserve-rest', 'x-api-key'), KEY);
    assert.equal(extractApiKey({ authorization: `Bearer ${KEY}`, 'x-api-key': 'other' }, 'kserve-rest', 'x-api-key'), KEY, 'Authorization wins');
    assert.equal(extractApiKey({ authorization: 'Basic Zm9v', 'x-api-key': KEY }, 'kserve-rest', 'x-api-key'), KEY);
    assert.equal(extractApiKey({ 'x-api-key': '' }, 'kserve-rest', 'x-api-key'), undefined);
  });

  test('gRPC: metadata authorization (Bearer) or the configured key, as metadataFacts gives them', () => {
    assert.equal(extractApiKey({ authorization: `Bearer ${KEY}` }, 'kserve-grpc', 'x-api-key'), KEY);
    assert.equal(extractApiKey({ 'x-api-key': KEY }, 'kserve-grpc', 'x-api-key'), KEY);
    assert.equal(extractApiKey({}, 'kserve-grpc', 'x-api-key'), undefined);
  });

  test('admin: only Bearer', () => {
    assert.equal(extractApiKey({ authorization: `Bearer ${KEY}` }, 'admin', 'x-api-key'), KEY);
    assert.equal(extractApiKey({ 'x-api-key': KEY }, 'admin', 'x-api-key'), undefined);
  });
});

describe('keyDigest', () => {
  test('is sha256 of the UTF-8 key: the FIPS 180-2 vector, and what `printf %s "$KEY" | sha256sum` prints', () => {
    assert.equal(hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    let shell: string | undefined;
    try {
      shell = execFileSync('sh', ['-c', 'printf %s "$KEY" | sha256sum'], { env: { ...process.env, KEY: 'clé-ü' }, encoding: 'utf8' }).split(' ')[0];
    } catch {
      // no sha256sum on this machine: the vector above still holds
    }
    if (shell !== undefined) assert.equal(hex('clé-ü'), shell);
  });
});

describe('ApiKeyAuth', () => {
  const auth = new ApiKeyAuth([
    [hex(KEY), 'acme'],
    [hex('sk-other').toUpperCase(), 'globex'],
  ]);

  test('finds a configured key (digests in any hex case), and nothing for an unknown, empty or missing key', () => {
    assert.equal(auth.lookup(KEY), 'acme');
    assert.equal(auth.lookup('sk-other'), 'globex');
    assert.equal(auth.lookup(`${KEY} `), undefined);
    assert.equal(auth.lookup('sk-test-4f9c2e1b'), undefined);
    assert.equal(auth.lookup(''), undefined);
    assert.equal(auth.lookup(undefined), undefined);
    assert.equal(auth.size, 2);
  });

  test('refuses a digest that is not 32 bytes', () => {
    assert.throws(() => new ApiKeyAuth([['abcd', 1]]), RangeError);
  });

  test('hits and misses both end in one timing-safe comparison of two 32-byte digests, never of the key', () => {
    const spy = mock.method(crypto, 'timingSafeEqual');
    syncBuiltinESMExports();
    try {
      assert.equal(auth.lookup(KEY), 'acme');
      assert.equal(auth.lookup('sk-wrong'), undefined);
      assert.equal(spy.mock.callCount(), 2);
      for (const call of spy.mock.calls) {
        const [a, b] = call.arguments as [Buffer, Buffer];
        assert.equal(a.length, 32);
        assert.equal(b.length, 32);
        assert.ok(!a.toString('utf8').includes('sk-'), 'the presented key itself is never compared');
      }
      assert.deepEqual(spy.mock.calls[0]?.arguments[0], keyDigest(KEY));
      assert.equal(spy.mock.calls[0]?.result, true);
      assert.equal(spy.mock.calls[1]?.result, false);
    } finally {
      spy.mock.restore();
      syncBuiltinESMExports();
    }
  });
});

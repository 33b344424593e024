// gRPC metadata as routing facts: the same header rules, sticky keys and client timeout as HTTP;
// the request id and the deadline of a call.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { configSchema } from '../../../../router/config/schema.js';
import { headerValue } from '../../../../router/core/call-context.js';
import { callDeadline } from '../../../../router/listeners/kserve-grpc/grpc-call-scope.js';
import { metadataFacts } from '../../../../router/listeners/kserve-grpc/metadata-facts.js';
import { requestIdFrom } from '../../../../router/listeners/kserve-grpc/request-id.js';
import { requestTimeoutMs } from '../../../../router/routing/client-timeout.js';
import { RouteTable } from '../../../../router/routing/route-table.js';
import { selectVariant } from '../../../../router/routing/variant-selector.js';

function metadata(entries: Array<[string, string | Buffer]>): Metadata {
  const md = new Metadata();
  for (const [key, value] of entries) md.add(key, value);
  return md;
}

describe('metadataFacts', () => {
  test('keys (lower case on the wire) → values; repeated keys → every value; binary entries left out', () => {
    const facts = metadataFacts(
      metadata([
        ['X-Canary', '1'],
        ['x-session-id', 'abc'],
        ['x-tag', 'a'],
        ['x-tag', 'b'],
        ['trace-bin', Buffer.from([1, 2])],
      ]),
    );
    assert.deepEqual(facts.headers, { 'x-canary': '1', 'x-session-id': 'abc', 'x-tag': ['a', 'b'] });
    assert.equal(headerValue(facts, 'x-tag'), 'a');
  });

  test('header match rules, sticky keys and x-switchyard-timeout-ms work on metadata', () => {
    const config = configSchema.parse({
      clusters: { c: { backend: 'triton-grpc', endpoints: ['127.0.0.1:1'] } },
      models: {
        iris: {
          split: [
            { name: 'stable', cluster: 'c', weight: 99 },
            { name: 'canary', cluster: 'c', weight: 1 },
          ],
          match: [{ headers: { 'x-canary': '1' }, variant: 'canary' }],
          sticky: { header: 'x-session-id' },
          timeoutMs: 5_000,
        },
      },
    });
    const route = new RouteTable(config.models).resolve('iris');
    assert.equal(selectVariant(route, metadataFacts(metadata([['x-canary', '1']])), () => 0).name, 'canary');
    assert.equal(selectVariant(route, metadataFacts(new Metadata()), () => 0).name, 'stable');
    const sticky = metadataFacts(metadata([['x-session-id', 'user-7']]));
    assert.equal(selectVariant(route, sticky, () => 0.99).name, selectVariant(route, sticky, () => 0).name);
    assert.equal(requestTimeoutMs(route.timeoutMs, metadataFacts(metadata([['x-switchyard-timeout-ms', '250']]))), 250);
    assert.throws(() => requestTimeoutMs(route.timeoutMs, metadataFacts(metadata([['x-switchyard-timeout-ms', 'soon']]))), { code: 'SWY_ERR_INPUT_INVALID_FIELD' });
  });
});

describe('requestIdFrom', () => {
  test('the client x-request-id when short and printable, else a fresh UUID', () => {
    assert.equal(requestIdFrom(metadata([['x-request-id', 'abc-123']])), 'abc-123');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    assert.match(requestIdFrom(new Metadata()), uuid);
    assert.match(requestIdFrom(metadata([['x-request-id', 'x'.repeat(200)]])), uuid);
    assert.match(requestIdFrom(metadata([['x-request-id', 'has space']])), uuid);
  });
});

describe('callDeadline', () => {
  test('the grpc-timeout deadline as epoch ms; none → no deadline', () => {
    assert.equal(callDeadline({ getDeadline: () => new Date(1_700_000_000_000) }), 1_700_000_000_000);
    assert.equal(callDeadline({ getDeadline: () => 1_700_000_000_123 }), 1_700_000_000_123);
    assert.equal(callDeadline({ getDeadline: () => Infinity }), Number.MAX_SAFE_INTEGER);
  });
});

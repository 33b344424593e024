// Admission by API key as every listener uses it: key → tenant (401 otherwise, with a Bearer
// challenge), the tenant's models (403, or the unknown-model 404 word for word), model lists, the
// reservation of a generation (prompt estimate + max_tokens) and the settle rule, cost from the
// price, admin keys, and a reload swapping all of it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdmittedRequest } from '../../../router/admission/admitted-request.js';
import { keyDigest } from '../../../router/admission/api-key-auth.js';
import { estimatePromptTokens } from '../../../router/admission/prompt-estimate.js';
import { ANONYMOUS, LEASE_SLACK_MS, TenantAdmission } from '../../../router/admission/tenant-admission.js';
import { configSchema } from '../../../router/config/schema.js';
import { SwitchyardError } from '../../../router/core/errors.js';
import type { LlmRequest } from '../../../router/core/llm.js';
import { RouteTable } from '../../../router/routing/route-table.js';
import { FakeStateStore, flush } from './fake-state-store.js';

const ACME_KEY = 'sk-acme-1';
const GLOBEX_KEY = 'sk-globex-1';
const ADMIN_KEY = 'sk-admin';
const sha = (key: string): string => keyDigest(key).toString('hex');

function config(overrides: Record<string, unknown> = {}) {
  return configSchema.parse({
    clusters: {},
    models: {},
    auth: {
      enabled: true,
      keys: [
        { sha256: sha(ACME_KEY), tenant: 'acme' },
        { sha256: sha(GLOBEX_KEY), tenant: 'globex' },
      ],
      ...overrides,
    },
    tenants: {
      acme: {
        models: ['llama-*', 'iris'],
        limits: { requestsPerMinute: 10, tokensPerMinute: 1000, concurrentRequests: 2 },
        price: { per1kPromptTokens: 0.5, per1kCompletionTokens: 1.5, perInference: 0.001 },
      },
      globex: {},
    },
  });
}

function llm(content: string, maxTokens: number): LlmRequest {
  return {
    kind: 'chat',
    model: 'llama-3',
    messages: [
      { role: 'system', content: 'abc' },
      { role: 'user', content },
    ],
    sampling: { maxTokens, stop: [] },
    stream: false,
    includeUsage: false,
    body: {},
  };
}

function thrown(fn: () => unknown): SwitchyardError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SwitchyardError);
    return err;
  }
  assert.fail('expected an error');
}

describe('TenantAdmission', () => {
  test('auth off: everyone is anonymous, every model allowed and listed, nothing limited', async () => {
    const store = new FakeStateStore();
    const admission = new TenantAdmission(configSchema.parse({ clusters: {}, models: {}, tenants: { acme: { models: ['x'], limits: { requestsPerMinute: 1 } } } }), store);
    assert.equal(admission.enabled, false);
    assert.equal(admission.authenticate('openai', {}), ANONYMOUS);
    admission.authorizeModel(ANONYMOUS, 'anything');
    assert.deepEqual(admission.visibleModels(ANONYMOUS, ['a', 'b']), ['a', 'b']);
    const admitted = await admission.admit(ANONYMOUS, 'a', { timeoutMs: 1000 });
    assert.equal(admitted.tenant, undefined);
    assert.deepEqual(admitted.headers, {});
    assert.deepEqual(store.calls, []);
  });

  test('a key names its tenant on every protocol; none or a wrong one → 401 with a Bearer challenge', () => {
    const admission = new TenantAdmission(config(), new FakeStateStore());
    assert.equal(admission.authenticate('openai', { authorization: `Bearer ${ACME_KEY}` }).tenant?.name, 'acme');
    assert.equal(admission.authenticate('kserve-rest', { 'x-api-key': GLOBEX_KEY }).tenant?.name, 'globex');
    assert.equal(admission.authenticate('kserve-grpc', { authorization: `Bearer ${GLOBEX_KEY}` }).tenant?.name, 'globex');
    for (const [protocol, headers] of [
      ['openai', {}],
      ['openai', { 'x-api-key': ACME_KEY }],
      ['openai', { authorization: 'Bearer sk-wrong' }],
      ['kserve-rest', { 'x-api-key': 'sk-wrong' }],
      ['kserve-grpc', {}],
    ] as const) {
      const err = thrown(() => admission.authenticate(protocol, headers));
      assert.equal(err.code, 'SWY_ERR_ADMIT_UNAUTHENTICATED');
      assert.equal(err.httpStatus, 401);
      assert.equal(err.canonical, 'UNAUTHENTICATED');
      assert.deepEqual(err.headers, { 'www-authenticate': 'Bearer' });
      assert.ok(!err.message.includes('sk-'), 'the message never echoes a key');
    }
    assert.match(thrown(() => admission.authenticate('kserve-rest', {})).message, /x-api-key/);
    assert.match(thrown(() => admission.authenticate('openai', { authorization: 'Bearer sk-nope' })).message, /not valid/);
  });

  test('auth.headerName is the V2 alternative', () => {
    const admission = new TenantAdmission(config({ headerName: 'X-Tenant-Key' }), new FakeStateStore());
    assert.equal(admission.authenticate('kserve-rest', { 'x-tenant-key': ACME_KEY }).tenant?.name, 'acme');
    assert.throws(() => admission.authenticate('kserve-rest', { 'x-api-key': ACME_KEY }));
  });

  test("a model outside the tenant's globs: 403, or with unauthorizedModel: not-found exactly the route table's unknown-model 404", () => {
    const forbidden = new TenantAdmission(config(), new FakeStateStore());
    const acme = forbidden.authenticate('openai', { authorization: `Bearer ${ACME_KEY}` });
    forbidden.authorizeModel(acme, 'llama-3-8b');
    forbidden.authorizeModel(acme, 'iris');
    const err = thrown(() => forbidden.authorizeModel(acme, 'gpt-4'));
    assert.equal(err.code, 'SWY_ERR_ADMIT_MODEL_FORBIDDEN');
    assert.equal(err.httpStatus, 403);
    assert.equal(err.param, 'model');
    assert.deepEqual(forbidden.visibleModels(acme, ['iris', 'llama-3', 'resnet']), ['iris', 'llama-3']);

    const hidden = new TenantAdmission(config({ unauthorizedModel: 'not-found' }), new FakeStateStore());
    const hiddenErr = thrown(() => hidden.authorizeModel(acme, 'resnet'));
    const unknown = thrown(() => new RouteTable({}).resolve('resnet'));
    assert.deepEqual([hiddenErr.code, hiddenErr.message, hiddenErr.param, hiddenErr.httpStatus], [unknown.code, unknown.message, unknown.param, unknown.httpStatus]);
  });

  test('a generation reserves ceil(prompt characters / 4) + max_tokens; the lease lives timeoutMs + slack', async () => {
    const store = new FakeStateStore();
    const admission = new TenantAdmission(config(), store);
    const acme = admission.authenticate('openai', { authorization: `Bearer ${ACME_KEY}` });
    const request = llm('x'.repeat(14), 100); // 3 + 14 = 17 characters → 5 tokens
    assert.equal(estimatePromptTokens(request), 5);
    assert.equal(estimatePromptTokens({ kind: 'completion', prompt: '12345678' }), 2);
    assert.equal(estimatePromptTokens({ kind: 'chat', messages: [{ role: 'assistant', content: null }] }), 0);
    const admitted = await admission.admit(acme, 'llama-3', { timeoutMs: 5000, llm: request });
    assert.deepEqual(store.calls, ['take tenant:acme:rpm 1/10', 'take tenant:acme:tpm 105/1000', 'acquire tenant:acme:concurrent 2']);
    assert.equal(admitted.headers['x-ratelimit-remaining-tokens'], '895');
    assert.equal(admitted.metersTokens, true);
    assert.equal(LEASE_SLACK_MS, 30_000);
  });

  test('settle rule and cost: exact usage; else prompt estimate + tokens streamed; else nothing', async () => {
    const store = new FakeStateStore();
    const admission = new TenantAdmission(config(), store);
    const acme = admission.authenticate('openai', { authorization: `Bearer ${ACME_KEY}` });

    const exact = await admission.admit(acme, 'llama-3', { timeoutMs: 1000, llm: llm('x'.repeat(14), 100) });
    exact.streamed(3);
    exact.usage({ promptTokens: 40, completionTokens: 10 });
    const charge = exact.finish(true);
    assert.deepEqual(charge, { promptTokens: 40, completionTokens: 10, costUsd: 0.036 }); // 40×0.5/1000 + 10×1.5/1000 + 0.001
    assert.equal(exact.finish(false), charge, 'finished once');

    const cut = await admission.admit(acme, 'llama-3', { timeoutMs: 1000, llm: llm('x'.repeat(14), 100) });
    cut.streamed();
    cut.streamed();
    assert.deepEqual(cut.finish(false), { promptTokens: 5, completionTokens: 2, costUsd: 0.0055 });

    const failed = await admission.admit(acme, 'llama-3', { timeoutMs: 1000, llm: llm('x'.repeat(14), 100) });
    assert.deepEqual(failed.finish(false), { promptTokens: 0, completionTokens: 0, costUsd: 0 });

    const brokeOff = await admission.admit(acme, 'llama-3', { timeoutMs: 1000, llm: llm('x'.repeat(14), 100) });
    brokeOff.streamed();
    brokeOff.failed();
    assert.deepEqual(brokeOff.finish(true), { promptTokens: 5, completionTokens: 1, costUsd: 0.004 }, 'no perInference for a stream that failed');

    await flush();
    assert.equal(store.used('tenant:acme:tpm'), 50 + 7 + 0 + 6);
    assert.equal(store.held('tenant:acme:concurrent'), 0);

    const v2 = await admission.admit(acme, 'iris', { timeoutMs: 1000 });
    assert.deepEqual(v2.finish(true), { promptTokens: 0, completionTokens: 0, costUsd: 0.001 });
    const v2Failed = await admission.admit(acme, 'iris', { timeoutMs: 1000 });
    assert.deepEqual(v2Failed.finish(false), { promptTokens: 0, completionTokens: 0, costUsd: 0 });
  });

  test('a tenant without limits or price: no store calls, usage still counted, no cost', async () => {
    const store = new FakeStateStore();
    const admission = new TenantAdmission(config(), store);
    const globex = admission.authenticate('openai', { authorization: `Bearer ${GLOBEX_KEY}` });
    const admitted = await admission.admit(globex, 'anything', { timeoutMs: 1000, llm: llm('hi', 10) });
    assert.equal(admitted.metersTokens, false);
    admitted.usage({ promptTokens: 3, completionTokens: 4 });
    assert.deepEqual(admitted.finish(true), { promptTokens: 3, completionTokens: 4, costUsd: undefined });
    assert.deepEqual(store.calls, []);
  });

  test('admin keys: open without them; with them Bearer only, 401 otherwise', () => {
    const open = new TenantAdmission(config(), new FakeStateStore());
    assert.equal(open.adminProtected, false);
    open.authorizeAdmin({});
    const guarded = new TenantAdmission(config({ admin: { keys: [{ sha256: sha(ADMIN_KEY) }] } }), new FakeStateStore());
    assert.equal(guarded.adminProtected, true);
    guarded.authorizeAdmin({ authorization: `Bearer ${ADMIN_KEY}` });
    assert.equal(thrown(() => guarded.authorizeAdmin({})).httpStatus, 401);
    assert.equal(thrown(() => guarded.authorizeAdmin({ authorization: `Bearer ${ACME_KEY}` })).httpStatus, 401, 'a tenant key is not an admin key');
    assert.throws(() => guarded.authorizeAdmin({ 'x-api-key': ADMIN_KEY }));
  });

  test('update() applies new keys, tenants and limits to the next request', async () => {
    const store = new FakeStateStore();
    const admission = new TenantAdmission(config(), store);
    assert.deepEqual(admission.tenantNames, ['acme', 'globex']);
    const next = configSchema.parse({
      clusters: {},
      models: {},
      auth: { enabled: true, keys: [{ sha256: sha(GLOBEX_KEY), tenant: 'globex' }] },
      tenants: { globex: { models: ['iris'], limits: { requestsPerMinute: 1 } } },
    });
    admission.update(next);
    assert.deepEqual(admission.tenantNames, ['globex']);
    assert.throws(() => admission.authenticate('openai', { authorization: `Bearer ${ACME_KEY}` }), /not valid/);
    const globex = admission.authenticate('openai', { authorization: `Bearer ${GLOBEX_KEY}` });
    assert.throws(() => admission.authorizeModel(globex, 'llama-3'), /may not use/);
    await admission.admit(globex, 'iris', { timeoutMs: 1000 });
    await assert.rejects(admission.admit(globex, 'iris', { timeoutMs: 1000 }), /requestsPerMinute 1/);
  });
});

describe('AdmittedRequest', () => {
  test('without a tenant or reservation: nothing to settle, no cost', () => {
    const admitted = new AdmittedRequest(undefined, undefined);
    admitted.usage({ promptTokens: 1, completionTokens: 2 });
    assert.deepEqual(admitted.finish(true), { promptTokens: 0, completionTokens: 0, costUsd: undefined });
  });
});

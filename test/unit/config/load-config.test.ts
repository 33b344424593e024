import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { interpolateEnv, loadConfigFile, parseConfigText, validateConfig } from '../../../router/config/load-config.js';
import { SwitchyardError } from '../../../router/core/errors.js';

const VALID = {
  clusters: { gpu: { backend: 'triton-grpc', endpoints: ['10.0.0.5:8001', '[::1]:8001', 'triton.gpu.svc:8001'] } },
  models: { iris: { split: [{ cluster: 'gpu', upstreamModel: 'iris_onnx', weight: 3 }, { cluster: 'gpu', weight: 1 }] } },
};

function clone(): Record<string, any> {
  return structuredClone(VALID) as Record<string, any>;
}

function configError(doc: unknown): string {
  try {
    validateConfig(doc, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof SwitchyardError);
    assert.equal(err.code, 'SWY_ERR_CFG_INVALID');
    return err.message;
  }
  assert.fail('config was accepted');
}

test('a valid config gets defaults and is deeply frozen', () => {
  const config = validateConfig(VALID);
  assert.equal(config.listeners.http.port, 8000);
  assert.equal(config.listeners.admin.port, 8002);
  assert.equal(config.listeners.http.host, '127.0.0.1');
  assert.equal(config.limits.maxBodyBytes, 64 * 1024 * 1024);
  assert.equal(config.models.iris?.timeoutMs, 60_000);
  assert.equal(config.models.iris?.split[1]?.weight, 1);
  assert.ok(Object.isFrozen(config.models.iris?.split[0]));
  assert.throws(() => {
    (config.limits as { maxInFlight: number }).maxInFlight = 1;
  }, TypeError);
});

test('the embedded default config is valid', () => {
  const text = readFileSync(new URL('../../../router/config/default.yaml', import.meta.url), 'utf8');
  const config = parseConfigText(text, 'default.yaml', {});
  assert.deepEqual(Object.keys(config.models).sort(), ['iris', 'tiny-llm', 'tiny-llm-trt', 'tiny-llm-vllm']);
  assert.deepEqual(config.clusters.dev?.endpoints, ['127.0.0.1:18001']);
});

// One bad value per field, each named by its path in the error.
const BAD_VALUES: Array<[string, (c: Record<string, any>) => void, RegExp]> = [
  ['unknown top-level key', (c) => { c.listner = {}; }, /^listner: unknown key$/m],
  ['listener port type', (c) => { c.listeners = { http: { port: '8000' } }; }, /^listeners\.http\.port: /m],
  ['listener port range', (c) => { c.listeners = { admin: { port: 70000 } }; }, /^listeners\.admin\.port: /m],
  ['listener unknown key', (c) => { c.listeners = { http: { prot: 1 } }; }, /^listeners\.http\.prot: unknown key$/m],
  ['empty listener host', (c) => { c.listeners = { http: { host: '' } }; }, /^listeners\.http\.host: /m],
  ['maxBodyBytes zero', (c) => { c.limits = { maxBodyBytes: 0 }; }, /^limits\.maxBodyBytes: /m],
  ['maxTensorElements fraction', (c) => { c.limits = { maxTensorElements: 1.5 }; }, /^limits\.maxTensorElements: /m],
  ['maxInFlight negative', (c) => { c.limits = { maxInFlight: -1 }; }, /^limits\.maxInFlight: /m],
  ['drainTimeoutMs negative', (c) => { c.drainTimeoutMs = -5; }, /^drainTimeoutMs: /m],
  ['logLevel unknown', (c) => { c.logLevel = 'loud'; }, /^logLevel: /m],
  ['cluster name', (c) => { c.clusters.GPU_A = c.clusters.gpu; }, /^clusters\.GPU_A: /m],
  ['backend kind', (c) => { c.clusters.gpu.backend = 'triton-http'; }, /^clusters\.gpu\.backend: /m],
  ['endpoints empty', (c) => { c.clusters.gpu.endpoints = []; }, /^clusters\.gpu\.endpoints: /m],
  ['endpoint without port', (c) => { c.clusters.gpu.endpoints = ['10.0.0.5']; }, /^clusters\.gpu\.endpoints\[0\]: must be host:port/m],
  ['endpoint port range', (c) => { c.clusters.gpu.endpoints = ['10.0.0.5:99999']; }, /^clusters\.gpu\.endpoints\[0\]: port must be at most 65535/m],
  ['maxMessageBytes', (c) => { c.clusters.gpu.maxMessageBytes = 'big'; }, /^clusters\.gpu\.maxMessageBytes: /m],
  ['cluster unknown key', (c) => { c.clusters.gpu.endpoint = 'x:1'; }, /^clusters\.gpu\.endpoint: unknown key$/m],
  ['model name', (c) => { c.models['bad name'] = c.models.iris; }, /^models\.bad name: /m],
  ['split empty', (c) => { c.models.iris.split = []; }, /^models\.iris\.split: /m],
  ['split unknown cluster', (c) => { c.models.iris.split[1].cluster = 'cpu'; }, /^models\.iris\.split\[1\]\.cluster: unknown cluster "cpu"/m],
  ['split weight zero', (c) => { c.models.iris.split[0].weight = 0; }, /^models\.iris\.split\[0\]\.weight: /m],
  ['split upstreamModel empty', (c) => { c.models.iris.split[0].upstreamModel = ''; }, /^models\.iris\.split\[0\]\.upstreamModel: /m],
  ['split upstreamVersion type', (c) => { c.models.iris.split[0].upstreamVersion = 2; }, /^models\.iris\.split\[0\]\.upstreamVersion: /m],
  ['split duplicate names', (c) => { c.models.iris.split[0].name = 'a'; c.models.iris.split[1].name = 'a'; }, /^models\.iris\.split: variant names must be unique/m],
  ['variant unknown key', (c) => { c.models.iris.split[0].wieght = 2; }, /^models\.iris\.split\[0\]\.wieght: unknown key$/m],
  ['timeoutMs', (c) => { c.models.iris.timeoutMs = 0; }, /^models\.iris\.timeoutMs: /m],
  ['model unknown key', (c) => { c.models.iris.batchng = {}; }, /^models\.iris\.batchng: unknown key$/m],
  ['openai-http with maxMessageBytes', (c) => { c.clusters.gpu.backend = 'openai-http'; c.clusters.gpu.maxMessageBytes = 1; }, /^clusters\.gpu\.maxMessageBytes: unknown key$/m],
  ['openai-http apiKey empty', (c) => { c.clusters.gpu = { backend: 'openai-http', endpoints: ['v:8000'], apiKey: '' }; }, /^clusters\.gpu\.apiKey: /m],
  ['llm profile', (c) => { c.models.iris.llm = { profile: 'tgi' }; }, /^models\.iris\.llm\.profile: /m],
  ['llm both templates', (c) => { c.models.iris.llm = { chatTemplate: 'a', chatTemplateFile: 'b' }; }, /^models\.iris\.llm\.chatTemplateFile: set chatTemplate or chatTemplateFile, not both/m],
  ['llm template variable type', (c) => { c.models.iris.llm = { templateVariables: { bos_token: 1 } }; }, /^models\.iris\.llm\.templateVariables\.bos_token: /m],
  ['llm defaultMaxTokens above maxTokens', (c) => { c.models.iris.llm = { defaultMaxTokens: 100, maxTokens: 10 }; }, /^models\.iris\.llm\.defaultMaxTokens: must not exceed maxTokens/m],
  ['llm maxMessages zero', (c) => { c.models.iris.llm = { maxMessages: 0 }; }, /^models\.iris\.llm\.maxMessages: /m],
  ['llm unknown key', (c) => { c.models.iris.llm = { template: 'x' }; }, /^models\.iris\.llm\.template: unknown key$/m],
  ['clusters missing', (c) => { delete c.clusters; }, /^clusters: /m],
  ['models missing', (c) => { delete c.models; }, /^models: /m],
];

for (const [name, mutate, expected] of BAD_VALUES) {
  test(`config rejects ${name}, naming the field`, () => {
    const doc = clone();
    mutate(doc);
    const message = configError(doc);
    assert.match(message, /^test\.yaml is invalid:/);
    assert.match(message, expected);
  });
}

test('every issue is reported at once', () => {
  const doc = clone();
  doc.limits = { maxInFlight: 0, maxBodyBytes: 0 };
  const message = configError(doc);
  assert.match(message, /limits\.maxInFlight/);
  assert.match(message, /limits\.maxBodyBytes/);
});

test('YAML errors and duplicate keys are refused', () => {
  assert.throws(() => parseConfigText('models: [', 'x.yaml', {}), /x\.yaml is not valid YAML/);
  assert.throws(() => parseConfigText('models: {}\nmodels: {}\nclusters: {}', 'x.yaml', {}), /not valid YAML/);
});

test('${ENV} and ${ENV:-default} are interpolated; an unset variable without default is an error', () => {
  assert.equal(interpolateEnv('a: ${A}, b: ${B:-7}, c: $${C}', { A: 'x' }), 'a: x, b: 7, c: ${C}');
  assert.throws(() => interpolateEnv('port: ${NOPE}', {}), /unset environment variable\(s\): NOPE/);
  const config = parseConfigText(
    'clusters: { gpu: { backend: triton-grpc, endpoints: ["${TRITON}"] } }\nmodels: { m: { split: [{ cluster: gpu }] } }',
    'env.yaml',
    { TRITON: 'triton:8001' },
  );
  assert.deepEqual(config.clusters.gpu?.endpoints, ['triton:8001']);
});

test('switchyard.example.yaml is a valid config', () => {
  const text = readFileSync(new URL('../../../switchyard.example.yaml', import.meta.url), 'utf8');
  const config = parseConfigText(text, 'switchyard.example.yaml', {});
  assert.deepEqual(config.clusters['triton-a10']?.endpoints, ['10.0.1.5:8001']);
  assert.equal(config.models.resnet50?.split[1]?.upstreamVersion, '2');
});

test('llm.chatTemplateFile is read relative to the config file; a missing one names the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-cfg-'));
  writeFileSync(join(dir, 'template.jinja'), '{{ messages[0].content }}');
  const text = 'clusters: { gpu: { backend: triton-grpc, endpoints: ["a:1"] } }\nmodels: { m: { split: [{ cluster: gpu }], llm: { chatTemplateFile: template.jinja } } }\n';
  writeFileSync(join(dir, 'ok.yaml'), text);
  const config = loadConfigFile(join(dir, 'ok.yaml'));
  assert.equal(config.models.m?.llm?.chatTemplate, '{{ messages[0].content }}');
  assert.equal(config.models.m?.llm?.profile, 'vllm-backend');
  assert.equal(config.models.m?.llm?.defaultMaxTokens, 256);

  writeFileSync(join(dir, 'missing.yaml'), text.replace('template.jinja', 'nope.jinja'));
  assert.throws(() => loadConfigFile(join(dir, 'missing.yaml')), (err: unknown) => {
    assert.ok(err instanceof SwitchyardError);
    assert.match(err.message, /^models\.m\.llm\.chatTemplateFile: cannot read .*nope\.jinja/m);
    return true;
  });
});

test('every YAML config example in README.md and docs/CONFIG.md is a valid config', () => {
  for (const doc of ['../../../README.md', '../../../docs/CONFIG.md']) {
    const text = readFileSync(new URL(doc, import.meta.url), 'utf8');
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string).filter((b) => /^clusters:/m.test(b));
    assert.ok(blocks.length > 0, `${doc} has config examples`);
    for (const block of blocks) parseConfigText(block, doc, {});
  }
});

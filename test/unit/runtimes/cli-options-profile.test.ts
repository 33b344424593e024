// --profile in the dev runtime's flags: a known name or exit-2 errors listing the names, the
// profile's model and instance count unless given, and no mixing with the hand-set cost flags.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_OPTIONS, OptionsError, parseCliOptions, usage } from '../../../runtimes/dev/cli-options.js';

test('without --profile nothing changes: the hand-set cost model and the three default models', () => {
  const o = parseCliOptions([]);
  assert.equal(o.profile, '');
  assert.deepEqual(o.models, DEFAULT_OPTIONS.models);
  assert.equal(o.instances, 1);
});

test('an LLM profile serves llama3 on one instance (one vLLM engine)', () => {
  const o = parseCliOptions(['--profile', 'llama3-8b-vllm-a10']);
  assert.equal(o.profile, 'llama3-8b-vllm-a10');
  assert.deepEqual(o.models, ['llama3']);
  assert.equal(o.instances, 1);
});

test('a vision profile serves resnet50 with the profile\'s instance count, unless --instances/--models say otherwise', () => {
  const o = parseCliOptions(['--profile=resnet50-trt-fp16-a100']);
  assert.deepEqual(o.models, ['resnet50']);
  assert.equal(o.instances, 2);
  const explicit = parseCliOptions(['--profile', 'resnet50-trt-fp16-a10', '--instances', '3', '--models', 'resnet50,iris']);
  assert.equal(explicit.instances, 3);
  assert.deepEqual(explicit.models, ['resnet50', 'iris']);
});

test('the environment sets the profile too (DEV_RUNTIME_PROFILE); a flag wins over it', () => {
  assert.equal(parseCliOptions([], { DEV_RUNTIME_PROFILE: 'llama3-8b-vllm-a100' }).profile, 'llama3-8b-vllm-a100');
  assert.equal(parseCliOptions(['--profile', 'llama3-8b-vllm-a10'], { DEV_RUNTIME_PROFILE: 'llama3-8b-vllm-a100' }).profile, 'llama3-8b-vllm-a10');
});

test('an unknown profile is an OptionsError naming every profile', () => {
  assert.throws(() => parseCliOptions(['--profile', 'llama3-8b-vllm-h100']), (err: unknown) => {
    assert.ok(err instanceof OptionsError);
    for (const name of ['resnet50-trt-fp16-a10', 'resnet50-trt-fp16-a100', 'llama3-8b-vllm-a10', 'llama3-8b-vllm-a100']) assert.match(err.message, new RegExp(name));
    return true;
  });
});

test('--profile with a cost-model flag (from argv or env) is an OptionsError naming the flags', () => {
  for (const flag of ['--latency-a-ms', '--latency-b-ms', '--token-latency-ms', '--prefill-ms-per-token', '--llm-max-sequences']) {
    assert.throws(() => parseCliOptions(['--profile', 'llama3-8b-vllm-a10', flag, '5']), new RegExp(`cannot be combined with ${flag}`));
  }
  assert.throws(() => parseCliOptions(['--profile', 'resnet50-trt-fp16-a10'], { DEV_RUNTIME_TOKEN_LATENCY_MS: '3' }), /--token-latency-ms/);
  // The same flags are fine without a profile.
  assert.equal(parseCliOptions(['--token-latency-ms', '5']).tokenLatencyMs, 5);
});

test('--help documents --profile with the profile names', () => {
  assert.match(usage(), /--profile .*llama3-8b-vllm-a10.*env DEV_RUNTIME_PROFILE/);
});

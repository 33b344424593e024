// The profile lookup: each config name gives its profile, and nothing else is a profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trtllmEnsembleProfile, tritonLlmProfile, vllmBackendProfile } from '../../../../router/adapters/triton-llm/index.js';

test('each config name gives the profile of that name', () => {
  assert.equal(tritonLlmProfile('vllm-backend'), vllmBackendProfile);
  assert.equal(tritonLlmProfile('trtllm-ensemble'), trtllmEnsembleProfile);
  assert.equal(vllmBackendProfile.name, 'vllm-backend');
  assert.equal(trtllmEnsembleProfile.name, 'trtllm-ensemble');
});

test('a name that is not a profile (even an inherited property) is an internal error', () => {
  for (const name of ['toString', 'vllm', '']) {
    assert.throws(() => tritonLlmProfile(name as never), { code: 'SWY_ERR_INTERNAL', message: `unknown Triton LLM profile '${name}'` });
  }
});

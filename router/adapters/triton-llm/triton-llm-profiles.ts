// The Triton LLM profiles by name, as model config selects them (llm.profile).
import { SwitchyardError } from '../../core/errors.js';
import type { TritonLlmProfileName } from '../../core/llm.js';
import type { TritonLlmProfile } from './triton-llm-profile.js';
import { trtllmEnsembleProfile } from './trtllm-ensemble-profile.js';
import { vllmBackendProfile } from './vllm-backend-profile.js';

const PROFILES: Readonly<Record<TritonLlmProfileName, TritonLlmProfile>> = {
  'vllm-backend': vllmBackendProfile,
  'trtllm-ensemble': trtllmEnsembleProfile,
};

export function tritonLlmProfile(name: TritonLlmProfileName): TritonLlmProfile {
  // The config schema only admits known names; the check keeps a stray string from becoming an undefined profile.
  if (!Object.hasOwn(PROFILES, name)) throw new SwitchyardError('SWY_ERR_INTERNAL', `unknown Triton LLM profile '${String(name)}'`);
  return PROFILES[name];
}

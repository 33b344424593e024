// Public API of the Triton LLM adapter: chat templates, and OpenAI-style generation to and from Triton LLM tensors.
export { CHATML_TEMPLATE, compileChatTemplate, renderChatPrompt, type ChatTemplate } from './chat-template.js';
export type { TritonLlmDecoder, TritonLlmProfile, TritonLlmRequestInput, TritonLlmStep } from './triton-llm-profile.js';
export { tritonLlmProfile } from './triton-llm-profiles.js';
export { vllmBackendProfile, vllmSamplingParameters } from './vllm-backend-profile.js';
export { trtllmEnsembleProfile } from './trtllm-ensemble-profile.js';
export { StopStringCutter } from './stop-string-cutter.js';

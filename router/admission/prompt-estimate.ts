// The prompt's token count before any backend has counted it: a token limit must reserve at
// admission, and only the backend's tokenizer knows the real number (the response's usage settles
// it). ceil(characters / 4) is OpenAI's own rule of thumb for English text; characters are
// UTF-16 code units (JavaScript string length) of every message's content, or of the prompt.
import type { LlmRequest } from '../core/llm.js';

export const CHARS_PER_TOKEN = 4;

export function estimatePromptTokens(request: Pick<LlmRequest, 'kind' | 'messages' | 'prompt'>): number {
  let chars = 0;
  if (request.kind === 'chat') for (const message of request.messages ?? []) chars += message.content?.length ?? 0;
  else chars = request.prompt?.length ?? 0;
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

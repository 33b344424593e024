// Chat messages -> the prompt text tiny-llm generates from. Renders ChatML exactly as this Jinja
// template does (the router's default template renders the same string, so a conversation gives
// the same text whether it reaches tiny-llm through the router's Triton path or through this port):
//   {% for m in messages %}{{ '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' }}{% endfor %}
//   {% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}
// Content is a string, a list of {type:"text", text} parts (joined with no separator), or null
// (an assistant turn that only carried tool calls; rendered empty). Other part types are refused:
// tiny-llm is a text-only model.
import { badRequest } from './openai-errors.js';

export interface ChatTurn {
  role: string;
  content: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function turnContent(raw: unknown, where: string): string {
  if (raw === undefined || raw === null) return '';
  if (typeof raw === 'string') return raw;
  if (!Array.isArray(raw)) throw badRequest(`${where}.content must be a string, a list of content parts or null`, 'messages');
  return raw
    .map((part: unknown, i) => {
      const at = `${where}.content[${i}]`;
      if (!isObject(part) || typeof part['type'] !== 'string') throw badRequest(`${at} must be an object with a "type"`, 'messages');
      if (part['type'] !== 'text') throw badRequest(`${at}: content part type '${part['type']}' is not supported by this text-only model`, 'messages');
      if (typeof part['text'] !== 'string') throw badRequest(`${at}.text must be a string`, 'messages');
      return part['text'];
    })
    .join('');
}

/** The request's `messages`, validated; throws a 400 OpenAiError naming the bad message. */
export function parseChatMessages(raw: unknown): ChatTurn[] {
  if (!Array.isArray(raw)) throw badRequest('messages must be a list of message objects', 'messages');
  if (raw.length === 0) throw badRequest('messages must contain at least one message', 'messages');
  return raw.map((message: unknown, i) => {
    const where = `messages[${i}]`;
    if (!isObject(message)) throw badRequest(`${where} must be an object`, 'messages');
    const role = message['role'];
    if (typeof role !== 'string' || role === '') throw badRequest(`${where}.role must be a non-empty string`, 'messages');
    return { role, content: turnContent(message['content'], where) };
  });
}

export function renderChatPrompt(turns: readonly ChatTurn[], addGenerationPrompt = true): string {
  let prompt = '';
  for (const turn of turns) prompt += `<|im_start|>${turn.role}\n${turn.content}<|im_end|>\n`;
  if (addGenerationPrompt) prompt += '<|im_start|>assistant\n';
  return prompt;
}

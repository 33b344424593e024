// Chat messages -> one prompt string, through a Jinja chat template in the Hugging Face tokenizer_config.json dialect.
import { Template } from '@huggingface/jinja';
import { SwitchyardError } from '../../core/errors.js';
import type { ChatMessage } from '../../core/llm.js';

/** The default template (ChatML), used when a model's config names none. */
export const CHATML_TEMPLATE = String.raw`{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`;

/** A parsed template; parse once (at start), render per request. */
export interface ChatTemplate {
  readonly source: string;
  readonly template: Template;
}

// @huggingface/jinja declares raise_exception itself (throwing a plain Error, indistinguishable from a template bug)
// and refuses render variables that redeclare it. Every compiled template therefore starts with a statement that
// rebinds the name to our own function, which throws the client-facing error instead.
const RAISE_ALIAS = '__switchyard_raise_exception';
const PRELUDE_SOURCE = `{% set raise_exception = ${RAISE_ALIAS} %}`;

/** Names the library declares before rendering; a template variable with one of them would make render throw. */
const LIBRARY_GLOBALS: ReadonlySet<string> = new Set([
  'true', 'false', 'none', 'True', 'False', 'None', 'raise_exception', 'range', 'strftime_now', 'namespace',
]);

// Sources come from the config only, so the cache is bounded by the number of configured models.
const compiled = new Map<string, ChatTemplate>();

/** Parses (or returns the cached parse of) a template; `where` names its origin, e.g. the config path. */
export function compileChatTemplate(source: string, where: string): ChatTemplate {
  const cached = compiled.get(source);
  if (cached !== undefined) return cached;
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw new SwitchyardError('SWY_ERR_CFG_INVALID',
      `${where}: the chat template does not parse: ${(err as Error).message}`, { cause: err });
  }
  template.parsed.body.unshift(...new Template(PRELUDE_SOURCE).parsed.body);
  const result: ChatTemplate = { source, template };
  compiled.set(source, result);
  return result;
}

/**
 * The prompt for a conversation, ending with the assistant's turn (add_generation_prompt). `variables` are the
 * model's extra template variables (bos_token, eos_token, …); bos_token and eos_token default to ''.
 */
export function renderChatPrompt(
  template: ChatTemplate | string,
  messages: readonly ChatMessage[],
  variables: Readonly<Record<string, string>>,
): string {
  const { template: parsed } = typeof template === 'string' ? compileChatTemplate(template, 'chat template') : template;
  const context: Record<string, unknown> = { bos_token: '', eos_token: '' };
  for (const [name, value] of Object.entries(variables)) {
    if (!LIBRARY_GLOBALS.has(name)) context[name] = value;
  }
  context.messages = messages.map(plainMessage);
  context.add_generation_prompt = true;
  context[RAISE_ALIAS] = raiseException;
  try {
    return parsed.render(context);
  } catch (err) {
    if (err instanceof SwitchyardError) throw err;
    // Templates are checked at start, so what fails here is a conversation the template cannot handle.
    throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD',
      `the model's chat template cannot render these messages: ${(err as Error).message}`,
      { param: 'messages', cause: err });
  }
}

/** What the template sees: plain objects, as transformers passes them. */
function plainMessage(message: ChatMessage): Record<string, string> {
  // null content (an assistant turn that only carried tool calls, which templates here do not see) renders as ''.
  const plain: Record<string, string> = { role: message.role, content: message.content ?? '' };
  if (message.name !== undefined) plain.name = message.name;
  return plain;
}

function raiseException(message: unknown): never {
  throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', String(message), { param: 'messages' });
}

// Chat templates: the ChatML default exactly, real Hugging Face templates (bos/eos tokens, raise_exception), errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '../../../../router/core/llm.js';
import { CHATML_TEMPLATE, compileChatTemplate, renderChatPrompt } from '../../../../router/adapters/triton-llm/index.js';

// meta-llama/Llama-2-7b-chat-hf tokenizer_config.json chat_template (JSON-decoded: '\n' inside Jinja strings stays an escape).
const LLAMA2_TEMPLATE = String.raw`{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}`;

// mistralai/Mistral-7B-Instruct-v0.1 chat_template.
const MISTRAL_TEMPLATE = String.raw`{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}`;

const TOKENS = { bos_token: '<s>', eos_token: '</s>' };
const m = (role: ChatMessage['role'], content: string | null, name?: string): ChatMessage =>
  name === undefined ? { role, content } : { role, content, name };
const messagesErr = (message: string) => ({ name: 'SwitchyardError', code: 'SWY_ERR_INPUT_INVALID_FIELD', param: 'messages', message });

test('ChatML default renders system and user turns and opens the assistant turn', () => {
  assert.equal(
    renderChatPrompt(CHATML_TEMPLATE, [m('system', 'S'), m('user', 'U')], {}),
    '<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n',
  );
  assert.equal(
    renderChatPrompt(compileChatTemplate(CHATML_TEMPLATE, 'models.m.llm.chatTemplate'), [m('user', 'a\nb')], {}),
    '<|im_start|>user\na\nb<|im_end|>\n<|im_start|>assistant\n',
  );
});

test('an assistant turn with null content (it carried tool calls) renders as empty text', () => {
  assert.equal(
    renderChatPrompt(CHATML_TEMPLATE, [m('user', 'U'), m('assistant', null), m('tool', 'T')], {}),
    '<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n<|im_start|>tool\nT<|im_end|>\n<|im_start|>assistant\n',
  );
});

test('Llama-2 template: system folded into the first turn, bos/eos tokens from the variables', () => {
  const prompt = renderChatPrompt(LLAMA2_TEMPLATE,
    [m('system', 'Be brief.'), m('user', 'Hi  '), m('assistant', ' Hello!\n'), m('user', ' Bye ')], TOKENS);
  assert.equal(prompt, '<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]');
});

test("a template's raise_exception becomes an invalid-field error on messages, with the template's message", () => {
  assert.throws(() => renderChatPrompt(LLAMA2_TEMPLATE, [m('user', 'a'), m('user', 'b')], TOKENS),
    messagesErr('Conversation roles must alternate user/assistant/user/assistant/...'));
  assert.throws(() => renderChatPrompt(MISTRAL_TEMPLATE, [m('system', 'S'), m('assistant', 'x')], TOKENS),
    messagesErr('Conversation roles must alternate user/assistant/user/assistant/...'));
  assert.throws(() => renderChatPrompt(MISTRAL_TEMPLATE, [m('user', 'a'), m('system', 'b')], TOKENS),
    messagesErr('Only user and assistant roles are supported!'));
  assert.equal(renderChatPrompt(MISTRAL_TEMPLATE, [m('user', 'a'), m('assistant', 'b'), m('user', 'c')], TOKENS),
    '<s>[INST] a [/INST]b</s>[INST] c [/INST]');
});

test('raise_exception also reaches our handler from inside a macro and a nested loop scope', () => {
  const template = "{% macro check(msg) %}{% if msg.role == 'tool' %}{{ raise_exception('no tools, got ' ~ msg.role) }}{% endif %}{% endmacro %}"
    + '{% for message in messages %}{{ check(message) }}{{ message.content }}{% endfor %}';
  assert.throws(() => renderChatPrompt(template, [m('user', 'a'), m('tool', 'b')], {}), messagesErr('no tools, got tool'));
  assert.equal(renderChatPrompt(template, [m('user', 'a'), m('assistant', 'b')], {}), 'ab');
});

test('other render failures are reported on messages too', () => {
  assert.throws(() => renderChatPrompt("{{ messages[0]['content'] + nothing }}", [m('user', 'a')], {}), {
    name: 'SwitchyardError', code: 'SWY_ERR_INPUT_INVALID_FIELD', param: 'messages',
    message: /^the model's chat template cannot render these messages: .*undefined/,
  });
});

test('the template sees add_generation_prompt, name, custom variables and empty bos/eos defaults', () => {
  const template = '[{{ bos_token }}|{{ eos_token }}|{{ add_generation_prompt }}|{{ date }}]'
    + '{% for message in messages %}{{ message.role }}{% if message.name is defined %}({{ message.name }}){% endif %};{% endfor %}';
  assert.equal(renderChatPrompt(template, [m('user', 'x', 'ann'), m('assistant', 'y')], { date: '2026-01-01' }),
    '[||true|2026-01-01]user(ann);assistant;');
  // Names the library declares itself are left to it rather than making every render throw.
  assert.equal(renderChatPrompt('{% for i in range(2) %}{{ i }}{% endfor %}{{ true }}', [], { range: 'x', true: 'y', raise_exception: 'z' }),
    '01true');
  // The request's own values win over same-named variables.
  assert.equal(renderChatPrompt('{{ messages | length }}{{ add_generation_prompt }}', [m('user', 'a')],
    { messages: 'x', add_generation_prompt: 'no' }), '1true');
});

test('a template that does not parse is a config error naming where it came from', () => {
  for (const source of ['{% if %}', '{% for m in messages %}{{ m }}', "{{ 'unterminated }}", '{{ a + }}']) {
    assert.throws(() => compileChatTemplate(source, 'models.llama.llm.chatTemplate'), {
      name: 'SwitchyardError', code: 'SWY_ERR_CFG_INVALID',
      message: /^models\.llama\.llm\.chatTemplate: the chat template does not parse: ./,
    }, source);
  }
});

test('templates are parsed once per source', () => {
  const a = compileChatTemplate(MISTRAL_TEMPLATE, 'a');
  assert.equal(compileChatTemplate(MISTRAL_TEMPLATE, 'b'), a);
  assert.equal(a.source, MISTRAL_TEMPLATE);
  assert.notEqual(compileChatTemplate(LLAMA2_TEMPLATE, 'c'), a);
  // Rendering twice from the cached parse gives the same prompt (the prelude is not added again).
  const messages = [m('user', 'q')];
  assert.equal(renderChatPrompt(MISTRAL_TEMPLATE, messages, TOKENS), renderChatPrompt(a, messages, TOKENS));
  assert.equal(renderChatPrompt(a, messages, TOKENS), '<s>[INST] q [/INST]');
});

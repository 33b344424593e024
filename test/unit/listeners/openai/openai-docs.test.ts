import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CHAT_FIELDS } from '../../../../router/listeners/openai/chat-request.js';
import { COMPLETION_FIELDS } from '../../../../router/listeners/openai/completion-request.js';
import { IGNORED_FIELDS, SHARED_FIELDS } from '../../../../router/listeners/openai/sampling-fields.js';

const DOC = readFileSync(new URL('../../../../docs/OPENAI.md', import.meta.url), 'utf8');
const SECTION = DOC.slice(DOC.indexOf('## Request fields'), DOC.indexOf('### Messages'));
const ROWS = [...SECTION.matchAll(/^\| `([a-z_]+)`(?: \*\((chat|completions)\)\*)? \| (accepted|ignored|rejected)\b/gm)].map((m) => ({
  field: m[1] as string,
  only: m[2],
  status: m[3],
}));

const documented = (endpoint: 'chat' | 'completions'): string[] =>
  [...new Set(ROWS.filter((r) => r.only === undefined || r.only === endpoint).map((r) => r.field))].sort();

test('docs/OPENAI.md lists exactly the chat fields the parser knows', () => {
  assert.ok(ROWS.length > 30, 'the table was found');
  assert.deepEqual(documented('chat'), [...SHARED_FIELDS, ...CHAT_FIELDS, ...IGNORED_FIELDS].sort());
});

test('docs/OPENAI.md lists exactly the completions fields the parser knows', () => {
  assert.deepEqual(documented('completions'), [...SHARED_FIELDS, ...COMPLETION_FIELDS, ...IGNORED_FIELDS].sort());
});

test('the fields documented as ignored are exactly IGNORED_FIELDS', () => {
  assert.deepEqual(ROWS.filter((r) => r.status === 'ignored').map((r) => r.field).sort(), [...IGNORED_FIELDS].sort());
});

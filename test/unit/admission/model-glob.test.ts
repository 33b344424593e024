// Tenant model globs: `*` any run (across `/`), `?` one character, everything else literal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelGlob } from '../../../router/admission/model-glob.js';

const CASES: ReadonlyArray<readonly [pattern: string, model: string, matches: boolean]> = [
  ['*', 'anything', true],
  ['*', '', true],
  ['iris', 'iris', true],
  ['iris', 'iris2', false],
  ['iris', 'Iris', false],
  ['llama-*', 'llama-3-8b', true],
  ['llama-*', 'llama-', true],
  ['llama-*', 'xllama-3', false],
  ['meta-llama/*', 'meta-llama/Llama-3.1-8B-Instruct', true],
  ['*/Llama-3.1-*', 'meta-llama/Llama-3.1-8B-Instruct', true],
  ['*-8b', 'llama-3-8b', true],
  ['*-8b', 'llama-3-8b-chat', false],
  ['tiny-llm?', 'tiny-llm2', true],
  ['tiny-llm?', 'tiny-llm', false],
  ['tiny.llm', 'tinyxllm', false], // `.` is literal
  ['a.b:c', 'a.b:c', true],
];

test('globs match whole model names', () => {
  for (const [pattern, model, matches] of CASES) assert.equal(new ModelGlob(pattern).matches(model), matches, `${pattern} ~ ${model}`);
});

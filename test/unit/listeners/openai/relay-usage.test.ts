// Usage read from relayed OpenAI answers without changing them: a non-streaming body's `usage`
// (split anywhere, even inside a multi-byte character), a stream's content deltas and usage chunk.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RelayUsage } from '../../../../router/listeners/openai/relay-usage.js';

function chunks(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

test('a non-streaming answer: the usage near its end, wherever the chunks split', () => {
  const body = JSON.stringify({
    id: 'cmpl-1',
    choices: [{ index: 0, message: { role: 'assistant', content: 'héllo "usage" wörld' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 17, total_tokens: 22, completion_tokens: 5, prompt_tokens_details: null },
    kv_transfer_params: null,
  });
  for (const size of [1, 3, 7, 1000]) {
    const usage = new RelayUsage(false);
    for (const chunk of chunks(body, size)) assert.equal(usage.push(chunk), 0);
    assert.deepEqual(usage.usage(), { promptTokens: 17, completionTokens: 5 }, `chunks of ${size}`);
  }
  const none = new RelayUsage(false);
  none.push('{"choices":[]}');
  assert.equal(none.usage(), undefined);
});

test('a stream: one delta per content chunk, the usage chunk when there is one', () => {
  const events = [
    { choices: [{ delta: { role: 'assistant', content: '' } }] },
    { choices: [{ delta: { content: 'Hel' } }] },
    { choices: [{ delta: { content: 'lo' } }] },
    { choices: [{ text: ' wörld' }] },
    { choices: [{ delta: { content: '' }, finish_reason: 'stop' }] },
    { choices: [], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } },
  ];
  const sse = `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`;
  for (const size of [1, 5, 64, 10_000]) {
    const usage = new RelayUsage(true);
    let deltas = 0;
    for (const chunk of chunks(sse, size)) deltas += usage.push(chunk);
    assert.equal(deltas, 3, `chunks of ${size}`);
    assert.deepEqual(usage.usage(), { promptTokens: 9, completionTokens: 3 });
  }
  const noUsage = new RelayUsage(true);
  noUsage.push('data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n');
  assert.equal(noUsage.usage(), undefined);
});

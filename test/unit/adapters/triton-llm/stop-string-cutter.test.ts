// StopStringCutter: what is emitted per chunk, and that the emitted pieces always join to the cut full text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopStringCutter } from '../../../../router/adapters/triton-llm/index.js';

interface Case {
  readonly name: string;
  readonly stops: readonly string[];
  readonly chunks: readonly string[];
  /** What push() returns for each chunk, then what finish() returns. */
  readonly emitted: readonly string[];
  readonly stopped: boolean;
}

const CASES: readonly Case[] = [
  { name: 'no stop strings: everything passes at once', stops: [], chunks: ['a<', 'b'], emitted: ['a<', 'b', ''], stopped: false },
  { name: 'stop inside one chunk: cut before it, the rest dropped', stops: ['END'], chunks: ['abcENDxyz'], emitted: ['abc', ''], stopped: true },
  { name: 'stop split across three chunks', stops: ['<|end|>'], chunks: ['Hello <|', 'en', 'd|> more', 'ignored'], emitted: ['Hello ', '', '', '', ''], stopped: true },
  { name: 'a held prefix that does not become a stop is released', stops: ['<|end|>'], chunks: ['a <|', 'x', 'y'], emitted: ['a ', '<|x', 'y', ''], stopped: false },
  { name: 'a held prefix still open at the end is emitted by finish', stops: ['</s>'], chunks: ['done </'], emitted: ['done ', '</'], stopped: false },
  { name: 'stop at the very start gives nothing', stops: ['\n\n'], chunks: ['\n', '\nhello'], emitted: ['', '', ''], stopped: true },
  { name: 'of several stops, the one completing first wins', stops: ['world', 'o'], chunks: ['hello world'], emitted: ['hell', ''], stopped: true },
  { name: 'the first stop to complete wins, whatever the chunking (whole)', stops: ['STOP', 'TO'], chunks: ['say STOP now'], emitted: ['say S', ''], stopped: true },
  { name: 'the first stop to complete wins, whatever the chunking (split)', stops: ['STOP', 'TO'], chunks: ['say ST', 'OP now'], emitted: ['say ', 'S', ''], stopped: true },
  { name: 'stops completing at the same character: the longer one cuts', stops: ['b', 'ab'], chunks: ['xab'], emitted: ['x', ''], stopped: true },
  { name: 'a shorter stop completing first wins over a longer one still open', stops: ['abcd', 'c'], chunks: ['ab', 'c', 'd'], emitted: ['', 'ab', '', ''], stopped: true },
  { name: 'repeated characters: the prefix is re-anchored', stops: ['aab'], chunks: ['a', 'a', 'a', 'b'], emitted: ['', '', 'a', '', ''], stopped: true },
  { name: 'the longest suffix that may start a stop is held', stops: ['xyz', 'yq'], chunks: ['1xy', 'q2'], emitted: ['1', 'x', ''], stopped: true },
  { name: 'empty stop strings are ignored', stops: ['', 'Z'], chunks: ['abZ'], emitted: ['ab', ''], stopped: true },
  { name: 'non-ASCII stop split mid-string', stops: ['。終'], chunks: ['答え。', '終わり'], emitted: ['答え', '', ''], stopped: true },
  { name: 'empty chunks change nothing', stops: ['##'], chunks: ['', 'a#', '', '#b'], emitted: ['', 'a', '', '', ''], stopped: true },
];

for (const c of CASES) {
  test(`StopStringCutter: ${c.name}`, () => {
    const cutter = new StopStringCutter(c.stops);
    const emitted = c.chunks.map((chunk) => cutter.push(chunk));
    emitted.push(cutter.finish());
    assert.deepEqual(emitted, c.emitted);
    assert.equal(cutter.stopped, c.stopped);
  });
}

/** The reference, by brute force: grow the text one character at a time and cut at the first stop that completes. */
function cutWhole(text: string, stops: readonly string[]): string {
  for (let end = 1; end <= text.length; end++) {
    const prefix = text.slice(0, end);
    // Of stops completing at the same character, the longer one (starting earlier) cuts more.
    const done = stops.filter((s) => s.length > 0 && prefix.endsWith(s)).sort((a, b) => b.length - a.length);
    if (done[0] !== undefined) return text.slice(0, end - done[0].length);
  }
  return text;
}

test('StopStringCutter: every split of a text into three chunks joins to the reference cut', () => {
  const texts = ['say STOP now', 'STSTOP', 'no stop here ST', 'aSTOSTOPb', 'xx</s', 'S', 'xabab', ''];
  const stopSets = [['STOP'], ['STOP', 'TO'], ['</s>', 's'], ['ST', 'STOP'], ['OP', 'STOP', 'O'], ['b', 'ab']];
  let checked = 0;
  for (const text of texts) {
    for (const stops of stopSets) {
      const expected = cutWhole(text, stops);
      for (let i = 0; i <= text.length; i++) {
        for (let j = i; j <= text.length; j++) {
          const cutter = new StopStringCutter(stops);
          const joined = cutter.push(text.slice(0, i)) + cutter.push(text.slice(i, j)) + cutter.push(text.slice(j)) + cutter.finish();
          assert.equal(joined, expected, `${JSON.stringify(text)} split at ${i},${j} with ${JSON.stringify(stops)}`);
          assert.equal(cutter.stopped, stops.some((s) => text.includes(s)),
            `stopped flag for ${JSON.stringify(text)} with ${JSON.stringify(stops)}`);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 500);
});

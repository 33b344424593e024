// The same inputs and seed give a byte-identical summary.json (and chart); another seed gives a
// different run. Uses the shipped spike trace and HPA so the autoscaler's path is covered too.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { simulateToDir } from '../../../loadtests/simulator/main.js';

const root = mkdtempSync(join(tmpdir(), 'simulator-determinism-'));
after(() => rmSync(root, { recursive: true, force: true }));

function run(dir: string, seed: number, profile: string): { json: string; svg: string } {
  const out = join(root, dir);
  simulateToDir(['--profile', profile, '--trace', 'spike', '--seed', String(seed)], out);
  return { json: readFileSync(join(out, 'summary.json'), 'utf8'), svg: readFileSync(join(out, 'chart.svg'), 'utf8') };
}

describe('determinism', () => {
  it('LLM spike: same seed ⇒ identical summary.json and chart.svg; another seed ⇒ different', () => {
    const a = run('a', 7, 'llama3-8b-vllm-a10');
    const b = run('b', 7, 'llama3-8b-vllm-a10');
    const c = run('c', 8, 'llama3-8b-vllm-a10');
    assert.equal(a.json, b.json);
    assert.equal(a.svg, b.svg);
    assert.notEqual(a.json, c.json);
    const summary = JSON.parse(a.json) as { inputs: { seed: number; hpa: { name: string } }; totals: { requests: number } };
    assert.equal(summary.inputs.seed, 7);
    assert.equal(summary.inputs.hpa.name, 'vllm');
    assert.ok(summary.totals.requests > 1000);
  });
});

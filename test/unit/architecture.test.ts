import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { checkGraph, readImportGraph } from '../../scripts/check-architecture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('router/ follows the dependency direction and has no cycles', () => {
  const graph = readImportGraph(ROOT);
  assert.ok(graph.size > 10, 'the scan found the router modules');
  assert.deepEqual(checkGraph(graph), []);
});

test('the guard catches upward imports, banned edges, leaves importing layers and cycles', () => {
  const graph = new Map<string, string[]>([
    ['router/backends/x.ts', ['router/routing/y.ts']],
    ['router/listeners/a.ts', ['router/clusters/c.ts', 'router/routing/y.ts']],
    ['router/core/z.ts', ['router/routing/y.ts']],
    ['router/routing/y.ts', ['router/routing/w.ts']],
    ['router/routing/w.ts', ['router/routing/y.ts', '../runtimes/dev/main.ts']],
    ['router/clusters/c.ts', []],
  ]);
  const problems = checkGraph(graph).join('\n');
  assert.match(problems, /backends\/x\.ts → router\/routing\/y\.ts: "backends" must not import "routing"/);
  assert.match(problems, /listeners\/a\.ts → router\/clusters\/c\.ts: "listeners" must never import "clusters"/);
  assert.match(problems, /leaf "core" must not import "routing"/);
  assert.match(problems, /import cycle: router\/routing\/y\.ts → router\/routing\/w\.ts → router\/routing\/y\.ts/);
  assert.match(problems, /router code must not import/);
  assert.doesNotMatch(problems, /listeners\/a\.ts → router\/routing/);
});

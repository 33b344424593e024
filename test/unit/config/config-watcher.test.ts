// ConfigWatcher on a real temp directory: the ways a config file gets replaced (in place, rename over,
// a Kubernetes ConfigMap `..data` symlink swap) are each reported once; unrelated files, unchanged
// content and a closed watcher report nothing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { ConfigWatcher } from '../../../router/config/config-watcher.js';

const DEBOUNCE_MS = 30;
/** Long enough for any event of a change to have been delivered and debounced. */
const QUIET_MS = 300;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-watch-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function watchCounting(path: string): { count: () => number; watcher: ConfigWatcher } {
  let changes = 0;
  const watcher = new ConfigWatcher(path, () => changes++, { debounceMs: DEBOUNCE_MS });
  cleanups.unshift(() => watcher.close());
  return { count: () => changes, watcher };
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const settle = (ms = QUIET_MS): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('a file rewritten in place, several writes in a burst → one change', async () => {
  const path = join(tempDir(), 'config.yaml');
  writeFileSync(path, 'models: {}\n');
  const { count } = watchCounting(path);
  writeFileSync(path, 'models: { a: 1 }\n');
  writeFileSync(path, 'models: { a: 2 }\n');
  writeFileSync(path, 'models: { a: 3 }\n');
  await waitUntil(() => count() >= 1, 'the change');
  await settle();
  assert.equal(count(), 1);
});

test('a new file renamed over the old one (how editors save) → a change, and the watch survives it', async () => {
  const dir = tempDir();
  const path = join(dir, 'config.yaml');
  writeFileSync(path, 'v: 1\n');
  const { count } = watchCounting(path);
  for (const [i, content] of ['v: 2\n', 'v: 3\n'].entries()) {
    writeFileSync(join(dir, '.config.yaml.swp'), content);
    renameSync(join(dir, '.config.yaml.swp'), path);
    await waitUntil(() => count() === i + 1, `change ${i + 1}`);
  }
  await settle();
  assert.equal(count(), 2);
});

test('a Kubernetes ConfigMap update (the ..data symlink swapped to a new directory) → a change', async () => {
  const dir = tempDir();
  // kubelet's layout: config.yaml → ..data/config.yaml, ..data → a timestamped directory.
  mkdirSync(join(dir, '..2024_01_01_00_00_00.1'));
  writeFileSync(join(dir, '..2024_01_01_00_00_00.1', 'config.yaml'), 'v: 1\n');
  symlinkSync('..2024_01_01_00_00_00.1', join(dir, '..data'));
  symlinkSync(join('..data', 'config.yaml'), join(dir, 'config.yaml'));
  const { count } = watchCounting(join(dir, 'config.yaml'));

  mkdirSync(join(dir, '..2024_01_01_00_01_00.2'));
  writeFileSync(join(dir, '..2024_01_01_00_01_00.2', 'config.yaml'), 'v: 2\n');
  symlinkSync('..2024_01_01_00_01_00.2', join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  rmSync(join(dir, '..2024_01_01_00_00_00.1'), { recursive: true });

  await waitUntil(() => count() === 1, 'the ConfigMap change');
  await settle();
  assert.equal(count(), 1);
});

test('other files in the directory, and a touch or a rewrite with the same content → no change', async () => {
  const dir = tempDir();
  const path = join(dir, 'config.yaml');
  writeFileSync(path, 'v: 1\n');
  const { count } = watchCounting(path);
  writeFileSync(join(dir, 'other.yaml'), 'x: 1\n');
  writeFileSync(join(dir, 'config.yaml.bak'), 'v: 9\n');
  writeFileSync(path, 'v: 1\n');
  const now = new Date();
  utimesSync(path, now, now);
  await settle();
  assert.equal(count(), 0);
});

test('the file removed → one change (the reload reports why); back again → another', async () => {
  const dir = tempDir();
  const path = join(dir, 'config.yaml');
  writeFileSync(path, 'v: 1\n');
  const { count } = watchCounting(path);
  unlinkSync(path);
  await waitUntil(() => count() === 1, 'the removal');
  writeFileSync(path, 'v: 1\n');
  await waitUntil(() => count() === 2, 'the file back');
  await settle();
  assert.equal(count(), 2);
});

test('after close() nothing is reported, even for a change already being debounced', async () => {
  const path = join(tempDir(), 'config.yaml');
  writeFileSync(path, 'v: 1\n');
  const { count, watcher } = watchCounting(path);
  writeFileSync(path, 'v: 2\n');
  watcher.close();
  writeFileSync(path, 'v: 3\n');
  await settle();
  assert.equal(count(), 0);
  watcher.close(); // idempotent
});

test('a directory that does not exist → the constructor throws', () => {
  assert.throws(() => new ConfigWatcher(join(tempDir(), 'missing', 'config.yaml'), () => {}), /ENOENT/);
});

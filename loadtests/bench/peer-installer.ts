// Installs the peer gateways the bench compares against into loadtests/.peers/ (gitignored), at
// pinned versions, once: Portkey's gateway from npm and LiteLLM's proxy from PyPI into a venv. A
// peer that is already installed at its pinned version is left alone; one that fails to install is
// reported with the reason and the bench goes on without it. Never called by `npm test`.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PORTKEY_VERSION = '1.15.2';
/**
 * Portkey's own package-lock.json versions. Without these overrides npm resolves @hono/node-server
 * 1.19.x, with which every `stream: true` request answers 500 (`TypeError: immutable`;
 * Portkey-AI/gateway#1389, #1550).
 */
export const PORTKEY_OVERRIDES = { '@hono/node-server': '1.13.5', hono: '4.9.7' } as const;
/**
 * The newest LiteLLM whose requirements resolve from the registry here: 1.104 and later require
 * certifi >= 2026.10.19, which the registry does not have.
 */
export const LITELLM_VERSION = '1.102.4';

export interface PeerInstall {
  readonly name: 'portkey' | 'litellm';
  readonly version: string;
  /** What to run: Portkey's start-server.js, or the venv's litellm script. */
  readonly entry: string;
  readonly ok: boolean;
  /** Why it is unavailable, when !ok. */
  readonly reason?: string;
  /** Seconds the install took (0 when it was already there). */
  readonly installS: number;
}

export function peersDir(repoRoot: string): string {
  return join(repoRoot, 'loadtests', '.peers');
}

function portkeyEntry(dir: string): string {
  return join(dir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
}

function installedVersion(packageJson: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function portkeyInstalled(dir: string): boolean {
  const nm = join(dir, 'node_modules');
  return (
    existsSync(portkeyEntry(dir)) &&
    installedVersion(join(nm, '@portkey-ai', 'gateway', 'package.json')) === PORTKEY_VERSION &&
    installedVersion(join(nm, 'hono', 'package.json')) === PORTKEY_OVERRIDES.hono &&
    installedVersion(join(nm, '@hono', 'node-server', 'package.json')) === PORTKEY_OVERRIDES['@hono/node-server']
  );
}

function message(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  const text = (e.stderr ?? '').trim() || e.message || String(err);
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-3).join(' | ').slice(0, 400);
}

export async function installPortkey(repoRoot: string, log: (line: string) => void): Promise<PeerInstall> {
  const dir = join(peersDir(repoRoot), 'portkey');
  const base = { name: 'portkey' as const, version: PORTKEY_VERSION, entry: portkeyEntry(dir) };
  if (portkeyInstalled(dir)) return { ...base, ok: true, installS: 0 };
  const started = Date.now();
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify({ name: 'switchyard-bench-peer-portkey', private: true, dependencies: { '@portkey-ai/gateway': PORTKEY_VERSION }, overrides: PORTKEY_OVERRIDES }, null, 2)}\n`,
    );
    log(`installing @portkey-ai/gateway@${PORTKEY_VERSION} (overrides ${JSON.stringify(PORTKEY_OVERRIDES)}) into ${dir}`);
    // --ignore-scripts: its postinstall is patch-package, and the tarball ships no patches/.
    await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: dir, timeout: 600_000 });
    if (!portkeyInstalled(dir)) throw new Error('npm install finished but the pinned versions are not in node_modules');
    return { ...base, ok: true, installS: (Date.now() - started) / 1000 };
  } catch (err) {
    return { ...base, ok: false, reason: `install failed: ${message(err)}`, installS: (Date.now() - started) / 1000 };
  }
}

async function litellmInstalled(venv: string): Promise<boolean> {
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python) || !existsSync(join(venv, 'bin', 'litellm'))) return false;
  try {
    const { stdout } = await run(python, ['-c', "import importlib.metadata as m; print(m.version('litellm'))"], { timeout: 60_000 });
    return stdout.trim() === LITELLM_VERSION;
  } catch {
    return false;
  }
}

/** The first Python 3.9–3.12 on PATH (LiteLLM's proxy extras support those). */
async function findPython(): Promise<string> {
  for (const candidate of ['python3.11', 'python3.12', 'python3.10', 'python3']) {
    try {
      const { stdout } = await run(candidate, ['-c', 'import sys; print(sys.version_info[0], sys.version_info[1])'], { timeout: 30_000 });
      const [major, minor] = stdout.trim().split(' ').map(Number);
      if (major === 3 && minor !== undefined && minor >= 9 && minor <= 12) return candidate;
    } catch {
      // not installed
    }
  }
  throw new Error('no python3.9–3.12 on PATH');
}

export async function installLitellm(repoRoot: string, log: (line: string) => void): Promise<PeerInstall> {
  const venv = join(peersDir(repoRoot), 'litellm-venv');
  const base = { name: 'litellm' as const, version: LITELLM_VERSION, entry: join(venv, 'bin', 'litellm') };
  if (await litellmInstalled(venv)) return { ...base, ok: true, installS: 0 };
  const started = Date.now();
  try {
    mkdirSync(peersDir(repoRoot), { recursive: true });
    const python = await findPython();
    if (!existsSync(join(venv, 'bin', 'pip'))) await run(python, ['-m', 'venv', venv], { timeout: 120_000 });
    log(`installing litellm[proxy]==${LITELLM_VERSION} into ${venv}`);
    await run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `litellm[proxy]==${LITELLM_VERSION}`], { timeout: 900_000 });
    if (!(await litellmInstalled(venv))) throw new Error('pip install finished but litellm is not importable at the pinned version');
    return { ...base, ok: true, installS: (Date.now() - started) / 1000 };
  } catch (err) {
    return { ...base, ok: false, reason: `install failed: ${message(err)}`, installS: (Date.now() - started) / 1000 };
  }
}

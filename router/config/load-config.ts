// Config loading: YAML (or JSON) text → ${ENV} interpolation → schema validation → deep-frozen object.
// A bad file is refused whole with every issue named by its path (models.iris.split[0].weight).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { SwitchyardError } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';

// ${NAME} or ${NAME:-default}; `$${` escapes a literal `${`.
const ENV_REF = /\$?\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolateEnv(text: string, env: NodeJS.ProcessEnv): string {
  const missing: string[] = [];
  const out = text.replace(ENV_REF, (match, name: string, fallback: string | undefined) => {
    if (match.startsWith('$$')) return match.slice(1);
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return match;
  });
  if (missing.length > 0) {
    throw new SwitchyardError('SWY_ERR_CFG_INVALID', `config refers to unset environment variable(s): ${missing.join(', ')}`);
  }
  return out;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out || '(root)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key`).join('\n');
  }
  return `${formatPath(issue.path)}: ${issue.message}`;
}

/**
 * Validates an already-parsed document; throws SWY_ERR_CFG_INVALID listing every issue. Files the
 * config names (chat templates) are read here, relative to `baseDir`, so a missing one stops the start.
 */
export function validateConfig(document: unknown, source = 'config', baseDir = process.cwd()): Config {
  const result = configSchema.safeParse(document ?? {});
  if (!result.success) {
    const lines = result.error.issues.map(describeIssue).join('\n');
    throw new SwitchyardError('SWY_ERR_CFG_INVALID', `${source} is invalid:\n${lines}`);
  }
  readTemplateFiles(result.data, source, baseDir);
  return deepFreeze(result.data);
}

function readTemplateFiles(config: Config, source: string, baseDir: string): void {
  for (const [name, model] of Object.entries(config.models)) {
    const llm = model.llm;
    if (llm?.chatTemplateFile === undefined) continue;
    const path = resolve(baseDir, llm.chatTemplateFile);
    try {
      llm.chatTemplate = readFileSync(path, 'utf8');
    } catch (err) {
      const where = formatPath(['models', name, 'llm', 'chatTemplateFile']);
      throw new SwitchyardError('SWY_ERR_CFG_INVALID', `${source} is invalid:\n${where}: cannot read ${path}: ${(err as Error).message}`);
    }
  }
}

export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): Config {
  let document: unknown;
  try {
    document = parseYaml(interpolateEnv(text, env), { strict: true, uniqueKeys: true });
  } catch (err) {
    if (err instanceof SwitchyardError) throw err;
    throw new SwitchyardError('SWY_ERR_CFG_INVALID', `${source} is not valid YAML: ${(err as Error).message}`);
  }
  return validateConfig(document, source, baseDir);
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SwitchyardError('SWY_ERR_CFG_INVALID', `cannot read config file ${path}: ${(err as Error).message}`);
  }
  return parseConfigText(text, path, env, dirname(path));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

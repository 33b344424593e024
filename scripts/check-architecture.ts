// Guard for docs/ARCHITECTURE.md: the one-way layer direction inside router/, no import cycles,
// and router/ never importing runtimes/, test/ or scripts/. Run by `npm run lint` (part of `npm test`).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Layers in dependency order: each may import only layers to its right (and the leaves). */
export const LAYERS = ['listeners', 'admission', 'routing', 'batching', 'clusters', 'backends'] as const;
/** Leaves any layer may import; they import only each other. */
export const LEAVES = ['core', 'config', 'resilience', 'state', 'telemetry', 'generated'] as const;
/** Protocol translation, used by listeners and backends (and the batcher's tensor merge), never the reverse. */
const ADAPTER_USERS = new Set(['listeners', 'backends', 'batching']);
/** Explicit bans on top of the direction rule. */
const FORBIDDEN: Record<string, readonly string[]> = { listeners: ['clusters', 'backends'] };

export type ImportGraph = ReadonlyMap<string, readonly string[]>;

function area(file: string): string {
  const parts = file.split('/');
  if (parts[0] !== 'router') return parts[0] ?? '';
  return parts.length === 2 ? 'root' : (parts[1] ?? '');
}

export function edgeViolation(from: string, to: string): string | undefined {
  const a = area(from);
  const b = area(to);
  if (a === 'root') return undefined; // main.ts and app.ts wire everything
  if (!to.startsWith('router/')) return `router code must not import ${b}/`;
  if (a === b) return undefined;
  if (b === 'root') return 'only main.ts imports app.ts';
  if ((LEAVES as readonly string[]).includes(a)) {
    return (LEAVES as readonly string[]).includes(b) ? undefined : `leaf "${a}" must not import "${b}"`;
  }
  if ((LEAVES as readonly string[]).includes(b)) return undefined;
  if (b === 'adapters') return ADAPTER_USERS.has(a) ? undefined : `"${a}" must not use adapters`;
  if (a === 'adapters') return `adapters may import only leaves, not "${b}"`;
  if (FORBIDDEN[a]?.includes(b)) return `"${a}" must never import "${b}"`;
  const ia = LAYERS.indexOf(a as (typeof LAYERS)[number]);
  const ib = LAYERS.indexOf(b as (typeof LAYERS)[number]);
  if (ia < 0 || ib < 0) return `unknown area "${ia < 0 ? a : b}" (add it to docs/ARCHITECTURE.md and this guard)`;
  return ib > ia ? undefined : `"${a}" must not import "${b}" (dependencies point ${LAYERS.join(' → ')})`;
}

export function findCycles(graph: ImportGraph): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

export function checkGraph(graph: ImportGraph): string[] {
  const problems: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const why = edgeViolation(from, to);
      if (why !== undefined) problems.push(`${from} → ${to}: ${why}`);
    }
  }
  for (const cycle of findCycles(graph)) problems.push(`import cycle: ${cycle.join(' → ')}`);
  return problems;
}

// Static and dynamic relative imports, including `import type` (a type cycle is still a design cycle).
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

export function readImportGraph(root: string): ImportGraph {
  const graph = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'generated') walk(path);
      } else if (entry.name.endsWith('.ts')) {
        const file = relative(root, path);
        const source = readFileSync(path, 'utf8');
        const targets: string[] = [];
        for (const m of source.matchAll(IMPORT)) {
          const spec = (m[1] ?? m[2]) as string;
          targets.push(relative(root, resolve(dirname(path), spec)).replace(/\.js$/, '.ts'));
        }
        graph.set(file, targets);
      }
    }
  };
  walk(join(root, 'router'));
  return graph;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const graph = readImportGraph(root);
  const problems = checkGraph(graph);
  if (problems.length > 0) {
    process.stderr.write(`architecture check failed (${problems.length}):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`architecture check: ${graph.size} modules, layers and direction OK, no cycles\n`);
}

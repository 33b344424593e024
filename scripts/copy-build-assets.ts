// After `tsc` emits dist/, copy the non-TypeScript files the code reads at run time, at the same
// relative paths, so dist/ runs exactly like the source tree (protos, default config, model data).
import { cpSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ASSETS = ['package.json', 'protos', 'router/config/default.yaml', 'runtimes/dev/models'];

for (const asset of ASSETS) {
  if (!existsSync(`${ROOT}/${asset}`)) continue;
  cpSync(`${ROOT}/${asset}`, `${ROOT}/dist/${asset}`, {
    recursive: true,
    filter: (src) => !src.endsWith('.ts') && !src.endsWith('.py'),
  });
}
process.stdout.write(`copied ${ASSETS.length} asset paths into dist/\n`);

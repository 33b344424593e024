// The router process: load config (or the embedded default), listen, and drain on SIGTERM/SIGINT.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { loadConfigFile } from './config/load-config.js';
import { SwitchyardError } from './core/errors.js';

const EMBEDDED_DEFAULT = fileURLToPath(new URL('./config/default.yaml', import.meta.url));
const EX_CONFIG = 78;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
  const path = values.config ?? process.env.SWITCHYARD_CONFIG ?? EMBEDDED_DEFAULT;
  let config;
  let app;
  try {
    config = loadConfigFile(path);
    // Building also checks what the schema cannot (chat templates compile).
    app = buildApp(config);
  } catch (err) {
    if (err instanceof SwitchyardError && err.code === 'SWY_ERR_CFG_INVALID') {
      process.stderr.write(`${err.code}: ${err.message}\n`);
      process.exit(EX_CONFIG);
    }
    throw err;
  }

  const addresses = await app.listen();
  app.logger.info(
    { event: 'ready', httpPort: addresses.http.port, adminPort: addresses.admin.port, config: path },
    `switchyard listening: client HTTP ${addresses.http.address}:${addresses.http.port}, admin ${addresses.admin.address}:${addresses.admin.port}`,
  );

  const stop = (signal: string): void => {
    app.logger.info({ event: 'draining', signal }, `${signal}: draining in-flight requests (up to ${config.drainTimeoutMs} ms)`);
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`switchyard failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});

// The router process: load config (or the embedded default), listen, reload on SIGHUP and when the
// config file changes, and drain on SIGTERM/SIGINT.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { ConfigWatcher } from './config/config-watcher.js';
import { loadConfigFile } from './config/load-config.js';
import { SwitchyardError } from './core/errors.js';

const EMBEDDED_DEFAULT = fileURLToPath(new URL('./config/default.yaml', import.meta.url));
const EX_CONFIG = 78;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
  // Only a file the operator named is reloaded and watched; the embedded default never changes.
  const given = values.config ?? process.env.SWITCHYARD_CONFIG;
  const path = given ?? EMBEDDED_DEFAULT;
  let config;
  let app;
  try {
    config = loadConfigFile(path);
    // Building also checks what the schema cannot (chat templates compile).
    app = buildApp(config, undefined, given === undefined ? {} : { configPath: given });
  } catch (err) {
    if (err instanceof SwitchyardError && err.code === 'SWY_ERR_CFG_INVALID') {
      process.stderr.write(`${err.code}: ${err.message}\n`);
      process.exit(EX_CONFIG);
    }
    throw err;
  }

  const addresses = await app.listen();

  const reload = (trigger: string): void => {
    app.reload(trigger).catch((err: unknown) => app.logger.error({ event: 'reload-failed', trigger, err }, 'config reload failed unexpectedly'));
  };
  // Handled even on the embedded default (the reload then says there is no file): SIGHUP's default
  // action would end the process.
  process.on('SIGHUP', () => reload('SIGHUP'));
  let watcher: ConfigWatcher | undefined;
  if (given !== undefined) {
    const watchFailed = (err: unknown): void =>
      app.logger.warn({ event: 'config-watch-failed', config: given, err }, `not watching ${given} for changes (SIGHUP still reloads)`);
    try {
      watcher = new ConfigWatcher(given, () => reload('file'), { onError: watchFailed });
    } catch (err) {
      watchFailed(err);
    }
  }

  // Written whatever logLevel says (a child logger at info): tests, compose and operators read the
  // bound ports from it, and ports may be ephemeral.
  app.logger.child({}, { level: 'info' }).info(
    { event: 'ready', httpPort: addresses.http.port, grpcPort: addresses.grpc.port, adminPort: addresses.admin.port, config: path, watching: watcher !== undefined },
    `switchyard listening: client HTTP ${addresses.http.address}:${addresses.http.port}, client gRPC ${addresses.grpc.address}:${addresses.grpc.port}, admin ${addresses.admin.address}:${addresses.admin.port}`,
  );

  const stop = (signal: string): void => {
    watcher?.close();
    app.logger.info({ event: 'draining', signal }, `${signal}: draining in-flight requests (up to ${app.config.drainTimeoutMs} ms)`);
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

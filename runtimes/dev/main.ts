// Process entry of the dev runtime: flags/env -> startDevRuntime, one JSON "ready" line on stdout
// (the only stdout output; tests and compose parse it), SIGTERM/SIGINT -> drain and exit 0.
import { OptionsError, parseCliOptions, usage } from './cli-options.js';
import { startDevRuntime } from './dev-runtime.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(usage());
  process.exit(0);
}

let options;
try {
  options = parseCliOptions(argv, process.env);
} catch (err) {
  if (!(err instanceof OptionsError)) throw err;
  process.stderr.write(`dev runtime: ${err.message}\n`);
  process.exit(2);
}

let runtime;
try {
  runtime = await startDevRuntime(options);
} catch (err) {
  process.stderr.write(`dev runtime: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

process.stderr.write(
  `dev runtime: models ${options.models.join(',')}${options.profile === '' ? '' : ` (profile ${options.profile})`}; gRPC ${options.host}:${runtime.grpcPort}, HTTP ${options.host}:${runtime.httpPort}, ` +
    `OpenAI ${options.host}:${runtime.openaiPort}\n`,
);
process.stdout.write(`${JSON.stringify({ event: 'ready', grpcPort: runtime.grpcPort, httpPort: runtime.httpPort, openaiPort: runtime.openaiPort })}\n`);

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`dev runtime: ${signal}, draining\n`);
  void runtime.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// What the state stores log through: a pino/Fastify logger fits structurally.
export interface StateLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export const SILENT_STATE_LOGGER: StateLogger = { warn: () => {}, info: () => {} };

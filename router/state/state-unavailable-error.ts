// The one failure the outage policy handles: the shared state store could not answer within its
// budget (down, reconnecting, hung, or it answered with an error). Everything else is a bug.
export class StateUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateUnavailableError';
  }
}

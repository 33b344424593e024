// What every upstream call carries from the listener down: who asked, until when, and how to stop.

export interface CallContext {
  /** The router's request id (x-request-id), sent upstream as metadata for correlation. */
  readonly requestId: string;
  /** Absolute deadline, epoch milliseconds; becomes the gRPC deadline of every upstream call. */
  readonly deadline: number;
  /** Aborted when the client goes away; upstream calls are cancelled at once. */
  readonly signal: AbortSignal;
}

/** A child context whose deadline is the earlier of the parent's and now + timeoutMs. */
export function withTimeout(ctx: CallContext, timeoutMs: number): CallContext {
  const deadline = Math.min(ctx.deadline, Date.now() + timeoutMs);
  return deadline === ctx.deadline ? ctx : { ...ctx, deadline };
}

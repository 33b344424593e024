// Router-side dynamic batching for one (cluster, upstream model, upstream version) of a route, after
// Triton's dynamic batcher. Compatible requests wait in one queue per compatibility key; a queue goes
// upstream as one ModelInferRequest when its rows reach maxBatchSize or a preferred batch size, or
// when its oldest request has waited maxQueueDelayUs. The answer is cut back into one per member.
// Invariants: a request is answered exactly once; a request whose deadline passed or whose client
// left while it waited is never sent; a batch never holds more rows than min(maxBatchSize, the
// model's max_batch_size); a failed batch fails exactly its members, with the upstream's error.
import type { CallContext } from '../core/call-context.js';
import { SwitchyardError } from '../core/errors.js';
import type { BatchingConfig, RetryConfig } from '../config/schema.js';
import type { ModelInferRequest } from '../generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../generated/inference/ModelInferResponse.js';
import type { RequestTelemetry, Telemetry } from '../telemetry/request-telemetry.js';
import { SYSTEM_CLOCK, type BatchClock } from './batch-clock.js';
import { BatchCounters, type BatchingStats } from './batch-counters.js';
import { fanOutObserver, NO_BATCH_OBSERVER, type AloneReason, type BatchObserver } from './batch-observer.js';
import type { BatchUpstream, UpstreamModelRef } from './batch-upstream.js';
import { prepareBatchable, type BatchableRequest } from './batchable-request.js';
import { cutRequest } from './cut-request.js';
import { mergeRequests } from './merge-requests.js';
import { joinResponses, splitResponse } from './split-response.js';

/** After a failed ModelConfig read, requests go unbatched this long before the next attempt. */
const CONFIG_RETRY_MS = 5_000;
/** Deadline of the ModelConfig read (the cluster shortens control calls further). */
const CONFIG_TIMEOUT_MS = 5_000;
/** Retry-After for a full queue: a batch leaves within maxQueueDelayUs, so the queue drains fast. */
const QUEUE_FULL_RETRY_AFTER_S = 1;

const NEVER_ABORTED = new AbortController().signal;

export interface BatcherOptions {
  /** The client-facing model, for messages. */
  readonly model: string;
  readonly upstream: BatchUpstream;
  readonly target: UpstreamModelRef;
  readonly config: BatchingConfig;
  /** The route's retry policy, applied to each batch as a whole. */
  readonly retry: RetryConfig;
  readonly observer?: BatchObserver;
  /** Opens the telemetry of each merged batch (a span linked to its members' traces). */
  readonly telemetry?: Pick<Telemetry, 'batch'>;
  readonly clock?: BatchClock;
}

/** What a batch may hold, once the model's max_batch_size is known. */
interface BatchLimits {
  readonly maxRows: number;
  readonly preferred: ReadonlySet<number>;
  /** The largest preferred size (Infinity without any): a queue past it goes at once. */
  readonly maxPreferred: number;
}

interface Member {
  readonly item: BatchableRequest;
  readonly ctx: CallContext;
  readonly enqueuedAt: number;
  readonly resolve: (response: ModelInferResponse__Output) => void;
  readonly reject: (err: unknown) => void;
  readonly onAbort: () => void;
  /** The queue it waits in; undefined once sent (or gone). */
  waiting: PendingBatch | undefined;
  expiry: unknown;
  settled: boolean;
}

interface PendingBatch {
  readonly key: string;
  readonly members: Member[];
  rows: number;
  readonly flushAt: number;
  timer: unknown;
}

export class Batcher {
  readonly #options: BatcherOptions;
  readonly #clock: BatchClock;
  readonly #counters = new BatchCounters();
  readonly #observer: BatchObserver;
  readonly #queues = new Map<string, PendingBatch>();
  readonly #delayMs: number;
  /** undefined: not read yet; null: the model does not batch. */
  #limits: BatchLimits | null | undefined;
  #loading: Promise<BatchLimits | null> | undefined;
  #retryConfigAt = 0;
  #depth = 0;
  #sequence = 0;
  readonly #idPrefix = `swy-batch-${Math.random().toString(16).slice(2, 8)}-`;

  constructor(options: BatcherOptions) {
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#observer = fanOutObserver([this.#counters, options.observer ?? NO_BATCH_OBSERVER]);
    this.#delayMs = options.config.maxQueueDelayUs / 1000;
  }

  get config(): BatchingConfig {
    return this.#options.config;
  }

  /** Requests waiting in this batcher's queue (not yet sent upstream). */
  get queued(): number {
    return this.#depth;
  }

  /** This batcher's own counters. */
  stats(): BatchingStats {
    return this.#counters.snapshot();
  }

  /** `request` names the upstream model and version already; `ctx` carries the request's deadline. */
  async infer(request: ModelInferRequest, ctx: CallContext): Promise<ModelInferResponse__Output> {
    const limits = this.#limits !== undefined ? this.#limits : await this.#readLimits();
    if (limits === null) {
      return this.#alone(request, ctx, this.#limits === null ? 'modelDoesNotBatch' : 'modelConfigUnavailable');
    }
    const item = prepareBatchable(request);
    if (item === undefined) return this.#alone(request, ctx, 'notBatchable');
    if (item.rows <= limits.maxRows) return this.#enqueue([item], ctx, limits)[0] as Promise<ModelInferResponse__Output>;
    if (this.#options.config.oversize === 'alone') return this.#alone(request, ctx, 'oversize');
    const pieces = cutRequest(item, limits.maxRows);
    const answers = this.#enqueue(pieces, ctx, limits);
    this.#observer.split(pieces.length);
    return joinResponses(await Promise.all(answers), pieces.map((p) => p.rows), request.id ?? '');
  }

  #alone(request: ModelInferRequest, ctx: CallContext, reason: AloneReason): Promise<ModelInferResponse__Output> {
    this.#observer.sentAlone(reason);
    return this.#options.upstream.infer(request, ctx, this.#options.retry);
  }

  /** Reads max_batch_size once (one read at a time); a failure means "unbatched for a while", not an error. */
  #readLimits(): Promise<BatchLimits | null> | null {
    if (this.#clock.now() < this.#retryConfigAt) return null;
    this.#loading ??= this.#fetchLimits().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #fetchLimits(): Promise<BatchLimits | null> {
    const { config } = this.#options;
    try {
      const ctx: CallContext = { requestId: `${this.#idPrefix}config`, deadline: Date.now() + CONFIG_TIMEOUT_MS, signal: NEVER_ABORTED };
      const answer = await this.#options.upstream.modelConfig(this.#options.target, ctx);
      if (answer.config === null || answer.config === undefined) throw new Error('empty model config');
      const maxRows = Math.min(config.maxBatchSize, answer.config.max_batch_size);
      if (maxRows < 2) {
        this.#limits = null;
        return null;
      }
      const preferred = new Set(config.preferredBatchSizes.filter((n) => n <= maxRows));
      this.#limits = { maxRows, preferred, maxPreferred: preferred.size === 0 ? Infinity : Math.max(...preferred) };
      return this.#limits;
    } catch {
      this.#retryConfigAt = this.#clock.now() + CONFIG_RETRY_MS;
      return null;
    }
  }

  /** Queues all items (the pieces of one request, or one request) or none of them. */
  #enqueue(items: readonly BatchableRequest[], ctx: CallContext, limits: BatchLimits): Promise<ModelInferResponse__Output>[] {
    if (ctx.signal.aborted) {
      this.#observer.cancelled();
      throw cancelledError();
    }
    const now = this.#clock.now();
    if (ctx.deadline <= now) {
      this.#observer.expired();
      throw expiredError();
    }
    if (this.#depth + items.length > this.#options.config.maxQueueSize) {
      this.#observer.rejected();
      throw new SwitchyardError(
        'SWY_ERR_BATCH_QUEUE_FULL',
        `the batch queue of model '${this.#options.model}' is full (${this.#options.config.maxQueueSize} requests waiting, batching.maxQueueSize); retry later`,
        { retryAfterS: QUEUE_FULL_RETRY_AFTER_S },
      );
    }
    return items.map(
      (item) =>
        new Promise<ModelInferResponse__Output>((resolve, reject) => {
          const member: Member = {
            item,
            ctx,
            enqueuedAt: now,
            resolve,
            reject,
            onAbort: () => this.#abandon(member),
            waiting: undefined,
            expiry: undefined,
            settled: false,
          };
          ctx.signal.addEventListener('abort', member.onAbort, { once: true });
          this.#add(member, limits);
        }),
    );
  }

  #add(member: Member, limits: BatchLimits): void {
    const rows = member.item.rows;
    let pending = this.#queues.get(member.item.key);
    if (pending !== undefined && pending.rows + rows > limits.maxRows) {
      // It does not fit: what waits goes now, and this request starts the next batch.
      this.#send(pending);
      pending = undefined;
    }
    if (pending === undefined) {
      const created: PendingBatch = { key: member.item.key, members: [], rows: 0, flushAt: member.enqueuedAt + this.#delayMs, timer: undefined };
      created.timer = this.#clock.setTimeout(() => this.#send(created), this.#delayMs);
      this.#queues.set(created.key, created);
      pending = created;
    }
    pending.members.push(member);
    pending.rows += rows;
    member.waiting = pending;
    this.#setDepth(this.#depth + 1);
    // The flush checks deadlines anyway; a timer is needed only for a deadline before the flush.
    if (member.ctx.deadline < pending.flushAt) {
      member.expiry = this.#clock.setTimeout(() => this.#expire(member), member.ctx.deadline - member.enqueuedAt);
    }
    if (pending.rows >= limits.maxRows || limits.preferred.has(pending.rows) || pending.rows > limits.maxPreferred) {
      this.#send(pending);
    }
  }

  /** Takes a member out of its queue (it stays unanswered). */
  #withdraw(member: Member): void {
    const pending = member.waiting;
    if (pending === undefined) return;
    member.waiting = undefined;
    this.#clock.clearTimeout(member.expiry);
    const at = pending.members.indexOf(member);
    if (at !== -1) pending.members.splice(at, 1);
    pending.rows -= member.item.rows;
    if (pending.members.length === 0) {
      this.#clock.clearTimeout(pending.timer);
      if (this.#queues.get(pending.key) === pending) this.#queues.delete(pending.key);
    }
    this.#setDepth(this.#depth - 1);
  }

  /** The client left: out of the queue if still there; either way it is answered no further. */
  #abandon(member: Member): void {
    if (member.settled) return;
    this.#withdraw(member);
    this.#observer.cancelled();
    this.#settle(member, undefined, cancelledError());
  }

  #expire(member: Member): void {
    if (member.waiting === undefined || member.settled) return;
    this.#withdraw(member);
    this.#observer.expired();
    this.#settle(member, undefined, expiredError());
  }

  /** Sends what waits in `pending` (members whose deadline has passed fail instead). */
  #send(pending: PendingBatch): void {
    if (this.#queues.get(pending.key) === pending) this.#queues.delete(pending.key);
    this.#clock.clearTimeout(pending.timer);
    const now = this.#clock.now();
    const members: Member[] = [];
    for (const member of pending.members.splice(0)) {
      member.waiting = undefined;
      this.#clock.clearTimeout(member.expiry);
      this.#depth--;
      if (member.ctx.deadline <= now) {
        this.#observer.expired();
        this.#settle(member, undefined, expiredError());
      } else {
        members.push(member);
      }
    }
    pending.rows = 0;
    this.#setDepth(this.#depth);
    const oldest = members[0];
    if (oldest === undefined) return;
    const rows = members.reduce((sum, m) => sum + m.item.rows, 0);
    this.#observer.batchSent(members.length, rows, now - oldest.enqueuedAt);
    if (members.length === 1) this.#sendOne(oldest);
    else this.#sendMerged(members);
  }

  /** A batch of one is the request itself, as it came, on the client's own context. */
  #sendOne(member: Member): void {
    this.#options.upstream.infer(member.item.request, member.ctx, this.#options.retry).then(
      (response) => this.#settle(member, response),
      (err: unknown) => {
        // A client that left has its answer already (cancelled); its cancelled call is no failure.
        if (!member.settled) this.#observer.batchFailed(1);
        this.#settle(member, undefined, err);
      },
    );
  }

  #sendMerged(members: Member[]): void {
    const id = `${this.#idPrefix}${++this.#sequence}`;
    let request: ModelInferRequest;
    try {
      request = mergeRequests(members.map((m) => m.item), id);
    } catch {
      // Never expected (equal keys merge); if it happens, no member may suffer for another.
      for (const member of members) this.#sendOne(member);
      return;
    }
    // The batch lives while any member still wants its answer; its deadline is the earliest member's.
    const controller = new AbortController();
    let waiting = members.length;
    const onMemberAbort = (): void => {
      if (--waiting === 0) controller.abort();
    };
    for (const m of members) m.ctx.signal.addEventListener('abort', onMemberAbort, { once: true });
    const traced = members.flatMap((m): RequestTelemetry[] => (m.ctx.telemetry === undefined ? [] : [m.ctx.telemetry]));
    const batchTelemetry = traced.length === 0 ? undefined : this.#options.telemetry?.batch(this.#options.model, traced);
    const ctx: CallContext = {
      requestId: id,
      deadline: Math.min(...members.map((m) => m.ctx.deadline)),
      signal: controller.signal,
      report: {},
      // Every attempt of the batch carries the batch's trace context upstream.
      ...(batchTelemetry === undefined ? {} : { attempt: batchTelemetry }),
    };
    const done = (err?: unknown): void => {
      batchTelemetry?.end(err);
      for (const m of members) {
        m.ctx.signal.removeEventListener('abort', onMemberAbort);
        if (m.ctx.report !== undefined) {
          if (ctx.report?.endpoint !== undefined) m.ctx.report.endpoint = ctx.report.endpoint;
          if (ctx.report?.attempts !== undefined) m.ctx.report.attempts = ctx.report.attempts;
        }
      }
    };
    this.#options.upstream.infer(request, ctx, this.#options.retry).then(
      (response) => {
        done();
        let answers: ModelInferResponse__Output[];
        try {
          answers = splitResponse(response, members.map((m) => ({ rows: m.item.rows, id: m.item.request.id ?? '' })));
        } catch (err) {
          this.#observer.batchFailed(members.length);
          for (const m of members) this.#settle(m, undefined, err);
          return;
        }
        members.forEach((m, i) => this.#settle(m, answers[i]));
      },
      (err: unknown) => {
        done(err);
        if (members.some((m) => !m.settled)) this.#observer.batchFailed(members.length);
        for (const m of members) this.#settle(m, undefined, err);
      },
    );
  }

  #settle(member: Member, response: ModelInferResponse__Output | undefined, err?: unknown): void {
    if (member.settled) return;
    member.settled = true;
    member.ctx.signal.removeEventListener('abort', member.onAbort);
    if (response !== undefined) member.resolve(response);
    else member.reject(err);
  }

  #setDepth(n: number): void {
    this.#depth = n;
    this.#observer.queueDepth(n);
  }
}

function expiredError(): SwitchyardError {
  return new SwitchyardError('SWY_ERR_UPSTREAM_DEADLINE', 'the request deadline expired in the batch queue, before the request was sent upstream');
}

function cancelledError(): SwitchyardError {
  return new SwitchyardError('SWY_ERR_REQUEST_CANCELLED', 'the client cancelled the request while it was being batched');
}

// The Batcher against a fake upstream and a fake clock: when batches go, what they hold, and how
// every member is answered — deadlines, cancellation, a full queue, failures, oversize requests.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Batcher } from '../../../router/batching/batcher.js';
import type { AloneReason, BatchObserver } from '../../../router/batching/batch-observer.js';
import type { BatchingConfig, RetryConfig } from '../../../router/config/schema.js';
import type { CallContext } from '../../../router/core/call-context.js';
import { SwitchyardError } from '../../../router/core/errors.js';
import type { ModelInferRequest } from '../../../router/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../../../router/generated/inference/ModelInferResponse.js';
import { EchoUpstream } from './echo-upstream.js';
import { FakeClock, settle } from './fake-clock.js';
import { rawRows, rowsRequest } from './tensor-fixtures.js';

const RETRY: RetryConfig = { maxRetries: 1, perTryTimeoutMs: 0, budgetPercent: 20, minRetryConcurrency: 3, backoffBaseMs: 25, backoffMaxMs: 250 };

function setup(batching: Partial<BatchingConfig> = {}, observer?: BatchObserver) {
  const clock = new FakeClock();
  const upstream = new EchoUpstream();
  const config: BatchingConfig = { maxBatchSize: 8, maxQueueDelayUs: 10_000, preferredBatchSizes: [], maxQueueSize: 100, oversize: 'alone', ...batching };
  const batcher = new Batcher({ model: 'iris', upstream, target: { name: 'm', version: '' }, config, retry: RETRY, clock, ...(observer ? { observer } : {}) });
  const ctx = (deadlineInMs = 60_000, signal = new AbortController().signal): CallContext & { report: Record<string, unknown> } => ({
    requestId: 'client',
    deadline: clock.now() + deadlineInMs,
    signal,
    report: {},
  });
  return { clock, upstream, batcher, ctx };
}

interface Tracked {
  response?: ModelInferResponse__Output;
  error?: SwitchyardError;
  readonly done: Promise<void>;
}

function track(promise: Promise<ModelInferResponse__Output>): Tracked {
  const t: { response?: ModelInferResponse__Output; error?: SwitchyardError; done?: Promise<void> } = {};
  t.done = promise.then(
    (r) => void (t.response = r),
    (e: SwitchyardError) => void (t.error = e),
  );
  return t as Tracked;
}

/** Single-row FP32 requests; seed i gives id req-i. */
const one = (i: number, extra: Partial<ModelInferRequest> = {}) => rowsRequest('FP32', 1, i, extra);

/** Rows of each upstream call, in order. */
const callRows = (upstream: EchoUpstream) => upstream.calls.map((c) => Number(c.request.inputs?.[0]?.shape?.[0]));

function assertOwnAnswer(t: Tracked, seed: number, rows = 1): void {
  assert.equal(t.error, undefined, t.error?.message);
  assert.equal(t.response?.id, `req-${seed}`);
  assert.deepEqual(t.response?.outputs[0]?.shape, [String(rows), '3']);
  assert.ok(t.response?.raw_output_contents[0]?.equals(rawRows('FP32', rows, seed)), `answer of req-${seed} is its own`);
}

describe('Batcher', () => {
  test('a batch goes at once when it reaches maxBatchSize: one call, a fresh id, the route retry policy, each member its own answer', async () => {
    const { upstream, batcher, ctx, clock } = setup({ maxBatchSize: 4 });
    const contexts = [1, 2, 3, 4].map(() => ctx());
    const answers = [1, 2, 3, 4].map((i) => track(batcher.infer(one(i), contexts[i - 1] as CallContext)));
    await settle();
    assert.deepEqual(callRows(upstream), [4]);
    const call = upstream.calls[0]!;
    assert.match(String(call.request.id), /^swy-batch-/);
    assert.equal(call.retry, RETRY);
    assert.equal(call.ctx.deadline, clock.now() + 60_000);
    await Promise.all(answers.map((a) => a.done));
    answers.forEach((a, i) => assertOwnAnswer(a, i + 1));
    assert.equal(contexts[0]?.report.endpoint, 'fake:1', 'the batch reports its endpoint to every member');
    assert.deepEqual(batcher.stats().batchSizes, { '4': 1 });
  });

  test('a batch goes when its oldest request has waited maxQueueDelayUs, not before', async () => {
    const { upstream, batcher, ctx, clock } = setup({ maxQueueDelayUs: 10_000 });
    const a = track(batcher.infer(one(1), ctx()));
    await settle();
    clock.advance(4);
    const b = track(batcher.infer(one(2), ctx()));
    await settle();
    clock.advance(5);
    assert.equal(upstream.calls.length, 0);
    clock.advance(1);
    await Promise.all([a.done, b.done]);
    assert.deepEqual(callRows(upstream), [2]);
    assertOwnAnswer(a, 1);
    assertOwnAnswer(b, 2);
    assert.deepEqual(batcher.stats().queueDelayUs, { mean: 10_000, max: 10_000 });
  });

  test('a preferred batch size sends at once; past the largest preferred size the queue goes too', async () => {
    const { upstream, batcher, ctx, clock } = setup({ maxBatchSize: 8, preferredBatchSizes: [2, 4] });
    const first = [1, 2].map((i) => track(batcher.infer(one(i), ctx())));
    await settle();
    assert.deepEqual(callRows(upstream), [2], 'preferred size 2 reached');
    const threeRows = track(batcher.infer(rowsRequest('FP32', 3, 3), ctx()));
    const twoRows = track(batcher.infer(rowsRequest('FP32', 2, 4), ctx()));
    await settle();
    assert.deepEqual(callRows(upstream), [2, 5], '3 then 5 rows: past 4 without hitting it');
    clock.advance(10);
    await Promise.all([...first, threeRows, twoRows].map((t) => t.done));
    assertOwnAnswer(threeRows, 3, 3);
    assertOwnAnswer(twoRows, 4, 2);
  });

  test('a request that does not fit sends what waits and starts the next batch', async () => {
    const { upstream, batcher, ctx, clock } = setup({ maxBatchSize: 4 });
    const second = rowsRequest('FP32', 3, 2);
    const a = track(batcher.infer(rowsRequest('FP32', 3, 1), ctx()));
    const b = track(batcher.infer(second, ctx()));
    await settle();
    assert.deepEqual(callRows(upstream), [3]);
    clock.advance(10);
    await Promise.all([a.done, b.done]);
    assert.deepEqual(callRows(upstream), [3, 3]);
    assert.equal(upstream.calls[1]?.request, second, 'a batch of one is the request itself, its id kept');
    assertOwnAnswer(a, 1, 3);
    assertOwnAnswer(b, 2, 3);
  });

  test('incompatible requests are never merged', async () => {
    const { upstream, batcher, ctx, clock } = setup();
    const answers = [
      track(batcher.infer(one(1), ctx())),
      track(batcher.infer(one(2, { outputs: [{ name: 'x' }] }), ctx())),
      track(batcher.infer(rowsRequest('FP64', 1, 3), ctx())),
      track(batcher.infer(one(4), ctx())),
      track(batcher.infer(one(5, { parameters: { priority: { uint64_param: 1 } } }), ctx())),
    ];
    await settle();
    clock.advance(10);
    await Promise.all(answers.map((a) => a.done));
    assert.equal(upstream.calls.length, 4);
    assert.deepEqual(upstream.calls.map((c) => c.request.inputs?.[0]?.shape?.[0]).sort(), [1, 1, 1, 2]);
    const merged = upstream.calls.find((c) => c.request.inputs?.[0]?.shape?.[0] === 2);
    assert.ok(merged !== undefined && Buffer.from(merged.request.raw_input_contents?.[0] as Buffer).equals(Buffer.concat([rawRows('FP32', 1, 1), rawRows('FP32', 1, 4)])));
    for (const [i, a] of answers.entries()) assert.equal(a.response?.id, i === 2 ? 'req-3' : `req-${i + 1}`);
  });

  test('a malformed request goes alone, exactly as it came, and never joins a batch', async () => {
    const { upstream, batcher, ctx, clock } = setup();
    const bad = { ...one(9), raw_input_contents: [Buffer.alloc(5)] };
    const answers = [track(batcher.infer(one(1), ctx())), track(batcher.infer(bad, ctx())), track(batcher.infer(one(2), ctx()))];
    await settle();
    assert.equal(upstream.calls[0]?.request, bad, 'sent at once, unchanged');
    clock.advance(10);
    await Promise.all(answers.map((a) => a.done));
    assert.deepEqual(callRows(upstream), [1, 2]);
    assert.ok(answers[1]?.error !== undefined, 'the upstream judged it');
    assertOwnAnswer(answers[0]!, 1);
    assert.equal(batcher.stats().sentAlone.notBatchable, 1);
  });

  test("the model's max_batch_size caps maxBatchSize; its config is read once", async () => {
    const { upstream, batcher, ctx, clock } = setup({ maxBatchSize: 8 });
    upstream.maxBatchSize = 2;
    const answers = [1, 2, 3].map((i) => track(batcher.infer(one(i), ctx())));
    await settle();
    clock.advance(10);
    await Promise.all(answers.map((a) => a.done));
    assert.deepEqual(callRows(upstream), [2, 1]);
    assert.equal(upstream.configCalls, 1);
  });

  test('a model with max_batch_size 0 gets every request unbatched, at once', async () => {
    const { upstream, batcher, ctx } = setup();
    upstream.maxBatchSize = 0;
    const requests = [one(1), one(2)];
    const answers = requests.map((r) => track(batcher.infer(r, ctx())));
    await Promise.all(answers.map((a) => a.done));
    assert.deepEqual(upstream.calls.map((c) => c.request), requests);
    assert.equal(upstream.configCalls, 1);
    assert.equal(batcher.stats().sentAlone.modelDoesNotBatch, 2);
    assert.equal(batcher.stats().batches, 0);
  });

  test('when the model config cannot be read, requests go unbatched and it is read again 5 s later', async () => {
    const { upstream, batcher, ctx, clock } = setup({ maxBatchSize: 2 });
    upstream.configError = new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'down');
    await track(batcher.infer(one(1), ctx())).done;
    await track(batcher.infer(one(2), ctx())).done;
    assert.equal(upstream.configCalls, 1);
    assert.equal(batcher.stats().sentAlone.modelConfigUnavailable, 2);
    upstream.configError = undefined;
    clock.advance(5_000);
    const answers = [3, 4].map((i) => track(batcher.infer(one(i), ctx())));
    await Promise.all(answers.map((a) => a.done));
    assert.equal(upstream.configCalls, 2);
    assert.deepEqual(callRows(upstream), [1, 1, 2]);
  });

  test('oversize alone: a request with more rows than maxBatchSize is sent unbatched', async () => {
    const { upstream, batcher, ctx } = setup({ maxBatchSize: 4, oversize: 'alone' });
    const big = rowsRequest('FP32', 10, 1);
    const answer = track(batcher.infer(big, ctx()));
    await answer.done;
    assert.equal(upstream.calls[0]?.request, big);
    assertOwnAnswer(answer, 1, 10);
    assert.equal(batcher.stats().sentAlone.oversize, 1);
  });

  test('oversize split: cut into maxBatchSize pieces, the rest shares a batch, the answer reassembled', async () => {
    const { upstream, batcher, ctx, clock } = setup({ maxBatchSize: 4, oversize: 'split' });
    const big = track(batcher.infer(rowsRequest('BYTES', 10, 1), ctx()));
    const small = track(batcher.infer(rowsRequest('BYTES', 1, 2), ctx()));
    await settle();
    assert.deepEqual(callRows(upstream), [4, 4]);
    clock.advance(10);
    await Promise.all([big.done, small.done]);
    assert.deepEqual(callRows(upstream), [4, 4, 3]);
    assert.equal(big.response?.id, 'req-1');
    assert.deepEqual(big.response?.outputs[0]?.shape, ['10', '3']);
    assert.ok(big.response?.raw_output_contents[0]?.equals(rawRows('BYTES', 10, 1)));
    assert.ok(small.response?.raw_output_contents[0]?.equals(rawRows('BYTES', 1, 2)));
    assert.equal(batcher.stats().split, 1);
  });

  test('a request whose deadline passes in the queue fails with DEADLINE and is never sent', async () => {
    const { upstream, batcher, ctx, clock } = setup({ maxQueueDelayUs: 10_000 });
    const early = track(batcher.infer(one(1), ctx(3)));
    const late = track(batcher.infer(one(2), ctx()));
    await settle();
    clock.advance(3);
    await early.done;
    assert.equal(early.error?.code, 'SWY_ERR_UPSTREAM_DEADLINE');
    assert.equal(early.error?.canonical, 'DEADLINE_EXCEEDED');
    assert.match(String(early.error?.message), /expired in the batch queue/);
    assert.equal(upstream.calls.length, 0);
    clock.advance(7);
    await late.done;
    assert.deepEqual(upstream.calls.map((c) => c.request.id), ['req-2']);
    assert.equal(batcher.stats().expired, 1);
    assert.equal(batcher.stats().queueDepth, 0);
    // A deadline already past on arrival: refused at once, never queued.
    const past = track(batcher.infer(one(3), ctx(-1)));
    await past.done;
    assert.equal(past.error?.code, 'SWY_ERR_UPSTREAM_DEADLINE');
  });

  test("a batch's upstream deadline is its earliest member's", async () => {
    const { upstream, batcher, ctx, clock } = setup({ maxBatchSize: 3 });
    const answers = [track(batcher.infer(one(1), ctx(500))), track(batcher.infer(one(2), ctx(200))), track(batcher.infer(one(3), ctx(900)))];
    await Promise.all(answers.map((a) => a.done));
    assert.equal(upstream.calls[0]?.ctx.deadline, clock.now() + 200);
  });

  test('beyond maxQueueSize: RESOURCE_EXHAUSTED (429) with Retry-After, and the queued requests are unaffected', async () => {
    const { upstream, batcher, ctx, clock } = setup({ maxQueueSize: 2 });
    const queued = [1, 2].map((i) => track(batcher.infer(one(i), ctx())));
    const refused = track(batcher.infer(one(3), ctx()));
    await refused.done;
    assert.equal(refused.error?.code, 'SWY_ERR_BATCH_QUEUE_FULL');
    assert.equal(refused.error?.canonical, 'RESOURCE_EXHAUSTED');
    assert.equal(refused.error?.httpStatus, 429);
    assert.equal(refused.error?.grpcCode, 8);
    assert.equal(refused.error?.retryAfterS, 1);
    assert.match(String(refused.error?.message), /model 'iris'/);
    clock.advance(10);
    await Promise.all(queued.map((a) => a.done));
    queued.forEach((a, i) => assertOwnAnswer(a, i + 1));
    assert.equal(upstream.calls.length, 1);
    assert.equal(batcher.stats().rejected, 1);
    assert.equal(batcher.stats().maxQueueDepth, 2);
  });

  test('a failed batch fails exactly its members, with the upstream error', async () => {
    const { upstream, batcher, ctx } = setup({ maxBatchSize: 2 });
    upstream.hold = true;
    const first = [1, 2].map((i) => track(batcher.infer(one(i), ctx())));
    const second = [3, 4].map((i) => track(batcher.infer(one(i), ctx())));
    await settle();
    assert.equal(upstream.held.length, 2);
    const failure = new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', 'injected fault', { canonical: 'INTERNAL' });
    const [heldA, heldB] = upstream.held.splice(0);
    heldA?.reject(failure);
    heldB?.resolve(upstream.answer(heldB.call.request));
    await Promise.all([...first, ...second].map((a) => a.done));
    for (const a of first) assert.equal(a.error, failure);
    assertOwnAnswer(second[0]!, 3);
    assertOwnAnswer(second[1]!, 4);
    assert.equal(batcher.stats().failedBatches, 1);
  });

  test('a client that leaves while queued is taken out and never sent; after sending, the others still get answers', async () => {
    const { upstream, batcher, ctx, clock } = setup({ maxBatchSize: 3 });
    const leaving = new AbortController();
    const a = track(batcher.infer(one(1), ctx(60_000, leaving.signal)));
    const b = track(batcher.infer(one(2), ctx()));
    await settle();
    leaving.abort();
    await a.done;
    assert.equal(a.error?.code, 'SWY_ERR_REQUEST_CANCELLED');
    clock.advance(10);
    await b.done;
    assert.deepEqual(upstream.calls.map((c) => c.request.id), ['req-2']);

    upstream.hold = true;
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const sent = controllers.map((c, i) => track(batcher.infer(one(10 + i), ctx(60_000, c.signal))));
    await settle();
    const batch = upstream.calls.at(-1)!;
    controllers[0]?.abort();
    await sent[0]?.done;
    assert.equal(sent[0]?.error?.code, 'SWY_ERR_REQUEST_CANCELLED');
    assert.equal(batch.ctx.signal.aborted, false, 'the batch lives while a member waits for it');
    upstream.release();
    await Promise.all(sent.map((s) => s.done));
    assertOwnAnswer(sent[1]!, 11);
    assertOwnAnswer(sent[2]!, 12);

    const all = [new AbortController(), new AbortController(), new AbortController()];
    all.forEach((c, i) => track(batcher.infer(one(20 + i), ctx(60_000, c.signal))));
    await settle();
    const abandoned = upstream.calls.at(-1)!;
    all.forEach((c) => c.abort());
    assert.equal(abandoned.ctx.signal.aborted, true, 'nobody waits: the upstream call is cancelled');
    upstream.release(new SwitchyardError('SWY_ERR_REQUEST_CANCELLED', 'cancelled'));
    await settle();
    assert.equal(batcher.stats().cancelled, 5);
    assert.equal(batcher.stats().failedBatches, 0, 'a cancelled batch is no failure');
  });

  test('the batch carries the smallest timeout parameter; priority is kept', async () => {
    const { upstream, batcher, ctx } = setup({ maxBatchSize: 3 });
    const p = { priority: { uint64_param: 2 } };
    const answers = [
      track(batcher.infer(one(1, { parameters: { ...p, timeout: { int64_param: 9000 } } }), ctx())),
      track(batcher.infer(one(2, { parameters: { ...p, timeout: { int64_param: 3000 } } }), ctx())),
      track(batcher.infer(one(3, { parameters: { ...p } }), ctx())),
    ];
    await Promise.all(answers.map((a) => a.done));
    assert.deepEqual(upstream.calls[0]?.request.parameters, { priority: { uint64_param: 2 }, timeout: { int64_param: 3000 } });
  });

  test('the observer hears every event', async () => {
    const events: string[] = [];
    const observer: BatchObserver = {
      batchSent: (size, rows, delay) => events.push(`sent ${size} ${rows} ${delay}`),
      queueDepth: (n) => events.push(`depth ${n}`),
      expired: () => events.push('expired'),
      rejected: () => events.push('rejected'),
      sentAlone: (reason: AloneReason) => events.push(`alone ${reason}`),
      cancelled: () => events.push('cancelled'),
      batchFailed: (size) => events.push(`failed ${size}`),
      split: (pieces) => events.push(`split ${pieces}`),
    };
    const { batcher, ctx, clock, upstream } = setup({ maxBatchSize: 2, maxQueueSize: 1, oversize: 'alone' }, observer);
    const a = track(batcher.infer(one(1), ctx()));
    await settle();
    const refused = track(batcher.infer(one(2), ctx()));
    clock.advance(10);
    await Promise.all([a.done, refused.done]);
    await track(batcher.infer(rowsRequest('FP32', 3, 3), ctx())).done;
    upstream.failWith = new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'down');
    const failing = track(batcher.infer(one(4), ctx()));
    await settle();
    clock.advance(10);
    await failing.done;
    assert.deepEqual(events, ['depth 1', 'rejected', 'depth 0', 'sent 1 1 10', 'alone oversize', 'depth 1', 'depth 0', 'sent 1 1 10', 'failed 1']);
  });
});

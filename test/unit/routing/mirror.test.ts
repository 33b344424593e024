// Mirror: sampling, the concurrency cap, the shadow's own lifetime, error containment, and the
// comparison of outcomes and V2 outputs. No sockets: shadows are promises the test settles.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallContext } from '../../../router/core/call-context.js';
import { SwitchyardError } from '../../../router/core/errors.js';
import type { ModelInferResponse__Output } from '../../../router/generated/inference/ModelInferResponse.js';
import type { InferTensorContents__Output } from '../../../router/generated/inference/InferTensorContents.js';
import { Mirror, type Outcome, type ShadowCall } from '../../../router/routing/mirror.js';
import { sameInferOutputs } from '../../../router/routing/same-infer-outputs.js';
import { binomialBounds, seededRandom } from '../../helpers/seeded-random.js';

type Output = ModelInferResponse__Output['outputs'][number];

function output(name: string, datatype = 'FP32', shape = ['1', '3'], contents: InferTensorContents__Output | null = null): Output {
  return { name, datatype, shape, parameters: {}, contents };
}

function response(outputs: Output[], raw: Buffer[], extra: Partial<ModelInferResponse__Output> = {}): ModelInferResponse__Output {
  return { model_name: 'iris', model_version: '1', id: '', parameters: {}, outputs, raw_output_contents: raw, ...extra };
}

function typed(fields: Partial<InferTensorContents__Output>): InferTensorContents__Output {
  return {
    bool_contents: [],
    int_contents: [],
    int64_contents: [],
    uint_contents: [],
    uint64_contents: [],
    fp32_contents: [],
    fp64_contents: [],
    bytes_contents: [],
    ...fields,
  };
}

const f32 = (...values: number[]) => Buffer.from(new Float32Array(values).buffer);
const labels = Buffer.from([6, 0, 0, 0, ...Buffer.from('setosa')]);

describe('sameInferOutputs', () => {
  const base = response([output('probabilities'), output('label', 'BYTES', ['1'])], [f32(0.9, 0.05, 0.05), labels]);
  const cases: { name: string; other: ModelInferResponse__Output; same: boolean }[] = [
    { name: 'identical answers', other: response([output('probabilities'), output('label', 'BYTES', ['1'])], [f32(0.9, 0.05, 0.05), labels]), same: true },
    { name: 'outputs in another order (raw bytes follow their output)', other: response([output('label', 'BYTES', ['1']), output('probabilities')], [labels, f32(0.9, 0.05, 0.05)]), same: true },
    { name: 'model name, version and id are not outputs', other: response([output('probabilities'), output('label', 'BYTES', ['1'])], [f32(0.9, 0.05, 0.05), labels], { model_name: 'iris-next', model_version: '7', id: 'x' }), same: true },
    { name: 'one float differs by one ulp', other: response([output('probabilities'), output('label', 'BYTES', ['1'])], [f32(0.9, 0.05, 0.050000004), labels]), same: false },
    { name: 'another shape, same bytes', other: response([output('probabilities', 'FP32', ['3', '1']), output('label', 'BYTES', ['1'])], [f32(0.9, 0.05, 0.05), labels]), same: false },
    { name: 'another datatype, same bytes', other: response([output('probabilities', 'INT32'), output('label', 'BYTES', ['1'])], [f32(0.9, 0.05, 0.05), labels]), same: false },
    { name: 'an output missing', other: response([output('probabilities')], [f32(0.9, 0.05, 0.05)]), same: false },
    { name: 'an output renamed', other: response([output('probs'), output('label', 'BYTES', ['1'])], [f32(0.9, 0.05, 0.05), labels]), same: false },
    { name: 'typed contents instead of raw bytes', other: response([output('probabilities', 'FP32', ['1', '3'], typed({ fp32_contents: [0.9, 0.05, 0.05] })), output('label', 'BYTES', ['1'])], []), same: false },
  ];
  for (const c of cases) test(`${c.name}: ${c.same ? 'match' : 'differ'}`, () => {
    assert.equal(sameInferOutputs(base, c.other), c.same);
    assert.equal(sameInferOutputs(c.other, base), c.same);
  });

  test('typed contents compare by value; absent fields and all-empty contents are the same', () => {
    const a = response([output('y', 'INT64', ['2'], typed({ int64_contents: ['1', '2'] })), output('s', 'BYTES', ['1'], typed({ bytes_contents: [Buffer.from('ok')] }))], []);
    const b = response([output('s', 'BYTES', ['1'], typed({ bytes_contents: [Buffer.from('ok')] })), output('y', 'INT64', ['2'], typed({ int64_contents: ['1', '2'] }))], []);
    const c = response([output('y', 'INT64', ['2'], typed({ int64_contents: ['1', '3'] })), output('s', 'BYTES', ['1'], typed({ bytes_contents: [Buffer.from('ok')] }))], []);
    assert.equal(sameInferOutputs(a, b), true);
    assert.equal(sameInferOutputs(a, c), false);
    assert.equal(sameInferOutputs(response([output('z', 'FP32', ['0'], typed({}))], []), response([output('z', 'FP32', ['0'], null)], [])), true);
  });
});

function clientCtx(overrides: Partial<CallContext> = {}): CallContext {
  return { requestId: 'req-1', deadline: Date.now() + 1_000, signal: new AbortController().signal, facts: { headers: { 'x-a': 'b' } }, report: {}, ...overrides };
}

/** A promise the test settles by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function call<T>(overrides: Partial<ShadowCall<T>> & Pick<ShadowCall<T>, 'send' | 'primary'>): ShadowCall<T> {
  return { model: 'iris', timeoutMs: 5_000, ctx: clientCtx(), ...overrides };
}

const ok = <T>(value: T, latencyMs = 5): Outcome<T> => ({ status: 'OK', latencyMs, value });
const failed = (status: Outcome<never>['status'], latencyMs = 5): Outcome<never> => ({ status, latencyMs });

describe('Mirror', () => {
  test('samples 30 % of 10,000 seeded requests within [2,725, 3,275] (±6σ); 0 % never, 100 % always', () => {
    assert.deepEqual(binomialBounds(10_000, 0.3), [2_725, 3_275]);
    const mirror = new Mirror({ random: seededRandom(7) });
    let sampled = 0;
    for (let i = 0; i < 10_000; i++) if (mirror.sample(30)) sampled++;
    assert.ok(sampled >= 2_725 && sampled <= 3_275, `sampled ${sampled}`);
    const edges = new Mirror({ random: seededRandom(8) });
    for (let i = 0; i < 1_000; i++) {
      assert.equal(edges.sample(0), false);
      assert.equal(edges.sample(100), true);
    }
  });

  test('counts outcomes and comparisons: OK/OK with equal and different outputs, OK/failed, same error on both', async () => {
    const mirror = new Mirror({ now: () => 0 });
    const same = (a: number, b: number) => a === b;
    mirror.send(call({ primary: Promise.resolve(ok(1)), send: async () => 1, sameOutputs: same }));
    mirror.send(call({ primary: Promise.resolve(ok(1)), send: async () => 2, sameOutputs: same }));
    mirror.send(call({ primary: Promise.resolve(ok(1)), send: async () => Promise.reject(new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'down')), sameOutputs: same }));
    mirror.send(call({ primary: Promise.resolve(failed('UNAVAILABLE')), send: async () => Promise.reject(new SwitchyardError('SWY_ERR_UPSTREAM_UNAVAILABLE', 'down')), sameOutputs: same }));
    await mirror.idle();
    const stats = mirror.stats().iris!;
    assert.deepEqual(
      { ...stats, primaryLatencyMs: undefined, mirrorLatencyMs: undefined },
      { mirrored: 4, skipped: 0, mirrorOk: 2, mirrorFailed: 2, statusMatch: 3, statusMismatch: 1, outputsMatch: 1, outputsDiffer: 1, primaryLatencyMs: undefined, mirrorLatencyMs: undefined },
    );
    assert.deepEqual(stats.primaryLatencyMs, { count: 4, sum: 20 });
    assert.deepEqual(stats.mirrorLatencyMs, { count: 4, sum: 0 });
  });

  test('a shadow that throws synchronously, or with a non-catalogue error, is counted and never escapes', async () => {
    const mirror = new Mirror();
    assert.doesNotThrow(() =>
      mirror.send(call({ primary: Promise.resolve(ok(1)), send: () => { throw new TypeError('bug'); } })),
    );
    mirror.send(call({ primary: Promise.resolve(ok(1)), send: () => Promise.reject(new Error('boom')) }));
    await mirror.idle();
    const stats = mirror.stats().iris!;
    assert.equal(stats.mirrorFailed, 2);
    assert.equal(stats.statusMismatch, 2);
    assert.equal(mirror.inFlight, 0);
  });

  test('a failing comparison counts as outputs differ instead of throwing', async () => {
    const mirror = new Mirror();
    mirror.send(call({ primary: Promise.resolve(ok(1)), send: async () => 1, sameOutputs: () => { throw new Error('compare bug'); } }));
    await mirror.idle();
    assert.equal(mirror.stats().iris!.outputsDiffer, 1);
  });

  test('the shadow has its own signal, deadline and report; it keeps the request id (suffixed) and the routing facts', async () => {
    const mirror = new Mirror();
    const client = new AbortController();
    const ctx = clientCtx({ signal: client.signal, deadline: Date.now() + 10 });
    let seen: CallContext | undefined;
    const shadow = deferred<number>();
    mirror.send(call({ ctx, timeoutMs: 60_000, primary: Promise.resolve(ok(1)), send: (c) => ((seen = c), shadow.promise) }));
    client.abort();
    assert.ok(seen !== undefined);
    assert.equal(seen.signal.aborted, false, 'the client leaving must not cancel the shadow');
    assert.notEqual(seen.signal, ctx.signal);
    assert.ok(seen.deadline >= Date.now() + 59_000, 'deadline = now + route timeout, not the client deadline');
    assert.notEqual(seen.report, ctx.report);
    assert.equal(seen.requestId, 'req-1-mirror');
    assert.equal(seen.facts, ctx.facts);
    shadow.resolve(1);
    await mirror.idle();
  });

  test('a shadow still running at its own deadline is aborted and counted as failed', async () => {
    const mirror = new Mirror();
    mirror.send(
      call({
        timeoutMs: 20,
        primary: Promise.resolve(ok(1)),
        send: (c) => new Promise((_, reject) => c.signal.addEventListener('abort', () => reject(new SwitchyardError('SWY_ERR_UPSTREAM_DEADLINE', 'late')))),
      }),
    );
    // The shadow's timer is unref'd (it must not hold a stopping process open): keep this test's loop alive.
    const keepAlive = setTimeout(() => undefined, 5_000);
    await mirror.idle();
    clearTimeout(keepAlive);
    const stats = mirror.stats().iris!;
    assert.equal(stats.mirrorFailed, 1);
    assert.equal(stats.statusMismatch, 1);
  });

  test('beyond maxConcurrent shadows in flight, sampled copies are skipped and counted; capacity returns as shadows finish', async () => {
    const mirror = new Mirror({ maxConcurrent: 2 });
    const shadows = [deferred<number>(), deferred<number>()];
    let sent = 0;
    for (const s of shadows) mirror.send(call({ primary: Promise.resolve(ok(1)), send: () => (sent++, s.promise) }));
    mirror.send(call({ primary: Promise.resolve(ok(1)), send: async () => (sent++, 1) }));
    mirror.send(call({ model: 'other', primary: Promise.resolve(ok(1)), send: async () => (sent++, 1) }));
    assert.equal(sent, 2);
    assert.equal(mirror.inFlight, 2);
    assert.equal(mirror.stats().iris!.skipped, 1);
    assert.equal(mirror.stats().other!.skipped, 1, 'the cap is router-wide, not per model');
    shadows[0]!.resolve(1);
    await new Promise((r) => setImmediate(r));
    mirror.send(call({ primary: Promise.resolve(ok(1)), send: async () => (sent++, 1) }));
    assert.equal(sent, 3);
    shadows[1]!.resolve(1);
    await mirror.idle();
    assert.deepEqual([mirror.stats().iris!.mirrored, mirror.stats().iris!.skipped, mirror.inFlight], [3, 1, 0]);
  });

  test('a pair whose client left is not compared, but the shadow is still counted', async () => {
    const mirror = new Mirror();
    mirror.send(call({ primary: Promise.resolve(failed('CANCELLED')), send: async () => 1, sameOutputs: () => true }));
    await mirror.idle();
    const stats = mirror.stats().iris!;
    assert.deepEqual([stats.mirrorOk, stats.statusMatch, stats.statusMismatch, stats.outputsMatch, stats.primaryLatencyMs.count], [1, 0, 0, 0, 0]);
  });

  test('the comparison waits for the slower side, whichever it is', async () => {
    const mirror = new Mirror();
    const primary = deferred<Outcome<number>>();
    mirror.send(call({ primary: primary.promise, send: async () => 1, sameOutputs: (a, b) => a === b }));
    await new Promise((r) => setImmediate(r));
    assert.equal(mirror.stats().iris!.mirrorOk, 1);
    assert.equal(mirror.stats().iris!.statusMatch, 0, 'not compared before the primary is complete');
    primary.resolve(ok(1));
    await mirror.idle();
    assert.equal(mirror.stats().iris!.outputsMatch, 1);
  });

  test('stats() lists requested models with zeros and returns copies', () => {
    const mirror = new Mirror();
    const snapshot = mirror.stats(['iris']);
    assert.equal(snapshot.iris!.mirrored, 0);
    snapshot.iris!.mirrored = 99;
    assert.equal(mirror.stats(['iris']).iris!.mirrored, 0);
  });
});

// The LLM profile's engine in virtual time: step timing (decode + prefill of newcomers, absolute
// deadlines), admission by max_num_seqs and by free KV blocks, FIFO order, preemption when the
// cache runs out mid-generation, and cancellation freeing capacity at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContinuousBatchingEngine, KvCapacityError, type EngineLimits } from '../../../runtimes/dev/engine/continuous-batching-engine.js';
import { GpuBusyMeter } from '../../../runtimes/dev/engine/gpu-busy-meter.js';
import { FakeClock } from './fake-clock.js';

/** 10 ms per step + 1 ms per running sequence; 0.5 ms per prefilled token. */
const COST = { decodeStepMs: (running: number) => 10 + running, prefillMs: (tokens: number) => tokens * 0.5 };

interface Tracked {
  tokens: number;
  admittedAt: number | undefined;
  tokenTimes: number[];
  done: boolean;
  cancel(): void;
}

function setup(limits: Partial<EngineLimits> = {}) {
  const clock = new FakeClock();
  const busy: boolean[] = [];
  const engine = new ContinuousBatchingEngine({
    cost: COST,
    limits: { maxNumSeqs: 256, kvCacheTokens: Number.POSITIVE_INFINITY, kvBlockTokens: 16, ...limits },
    clock,
    onBusy: (b) => busy.push(b),
  });
  const submit = (promptTokens: number, outputTokens: number): Tracked => {
    const t: Tracked = { tokens: 0, admittedAt: undefined, tokenTimes: [], done: false, cancel: () => {} };
    const seq = engine.submit({
      promptTokens,
      maxTokens: promptTokens + outputTokens,
      onAdmitted: () => (t.admittedAt = clock.now()),
      onToken: () => {
        t.tokens++;
        t.tokenTimes.push(clock.now());
        t.done = t.tokens >= outputTokens;
        return t.done;
      },
    });
    t.cancel = () => seq.cancel();
    return t;
  };
  return { clock, engine, submit, busy };
}

test('a lone sequence: the first step carries its prefill, later steps are decode only, deadlines chain', () => {
  const { clock, submit, engine, busy } = setup();
  const s = submit(100, 3);
  assert.equal(s.admittedAt, 0);
  clock.advance(1000);
  // step 1: 10 + 1 + 100 × 0.5 = 61; steps 2, 3: 11 each.
  assert.deepEqual(s.tokenTimes, [61, 72, 83]);
  assert.equal(s.done, true);
  assert.equal(engine.running, 0);
  assert.deepEqual(busy, [true, false]);
  assert.equal(engine.counters.promptTokens, 100);
  assert.equal(engine.counters.generationTokens, 3);
});

test('continuous batching: a newcomer joins at the next step and its prefill slows everybody\'s token in that step', () => {
  const { clock, submit } = setup();
  const a = submit(10, 10);
  clock.advance(20); // a: step 1 ends at 10 + 1 + 5 = 16; step 2 runs 16..27
  const b = submit(40, 2);
  assert.equal(b.admittedAt, undefined, 'admission waits for the step in progress to end');
  clock.advance(1000);
  assert.equal(b.admittedAt, 27);
  // step 3 (27..): decode for 2 + prefill 40 × 0.5 = 12 + 20 = 32 → both get a token at 59.
  assert.equal(a.tokenTimes[2], 59);
  assert.equal(b.tokenTimes[0], 59);
  assert.equal(a.tokenTimes[3]! - a.tokenTimes[2]!, 12, 'back to decode-only steps for two sequences');
});

test('max_num_seqs bounds the batch; the rest wait in FIFO order', () => {
  const { clock, submit, engine } = setup({ maxNumSeqs: 2 });
  const seqs = [submit(1, 5), submit(1, 5), submit(1, 5), submit(1, 5)];
  clock.advance(0.5);
  assert.equal(engine.running, 1, 'the first started alone: the others arrived after its step began');
  clock.advance(12); // first step over; second and third? only one slot left
  assert.equal(engine.running, 2);
  assert.equal(engine.waiting, 2);
  clock.advance(10_000);
  const admitted = seqs.map((s) => s.admittedAt as number);
  assert.deepEqual([...admitted].sort((x, y) => x - y), admitted, 'admitted in arrival order');
  assert.ok(seqs.every((s) => s.done));
});

test('KV admission: a sequence waits until free blocks cover its prompt, FIFO head-of-line', () => {
  // 10 blocks of 16 tokens = 160 tokens.
  const { clock, submit, engine } = setup({ kvCacheTokens: 160 });
  const a = submit(64, 40); // 4 blocks, grows to 7
  const b = submit(64, 40); // 4 blocks
  const c = submit(48, 5); // 3 blocks: would fit only while a and b are small
  const d = submit(16, 1); // 1 block, behind c
  clock.advance(0.1);
  clock.advance(50); // step 1 (a alone) done; step 2 admits b (4 blocks) then c (3): 4 + 4 + 3 = 11 > 10 → c waits
  assert.equal(engine.running, 2);
  assert.equal(engine.waiting, 2);
  assert.equal(d.admittedAt, undefined, 'd fits, but FIFO keeps it behind c');
  assert.ok(engine.kvUsage > 0.7);
  clock.advance(100_000);
  assert.ok([a, b, c, d].every((s) => s.done));
  const admittedAt = (s: Tracked): number => s.admittedAt ?? Number.NaN;
  assert.ok(admittedAt(c) <= admittedAt(d), 'c before d');
  assert.equal(engine.usedBlocks, 0);
  assert.equal(engine.kvUsage, 0);
});

test('a sequence that could never fit in the cache is refused at submit', () => {
  const { submit } = setup({ kvCacheTokens: 160 });
  assert.throws(() => submit(100, 100), KvCapacityError);
});

test('cancelling frees the slot and the blocks at once: the next waiting sequence is admitted at the next step', () => {
  const { clock, submit, engine } = setup({ kvCacheTokens: 160 });
  const a = submit(150, 10); // 10 blocks: the whole cache; its steps end at 86, 97, 108, …
  clock.advance(0.1);
  const b = submit(32, 2);
  clock.advance(100);
  assert.equal(a.tokens, 2);
  assert.equal(engine.waiting, 1);
  assert.equal(b.admittedAt, undefined);
  a.cancel();
  assert.equal(engine.running, 0);
  assert.equal(engine.usedBlocks, 0);
  const before = clock.now();
  clock.advance(100);
  assert.ok(b.admittedAt !== undefined && b.admittedAt - before <= 12, `admitted at the next step boundary, not after a's end (${b.admittedAt})`);
  clock.advance(1000);
  assert.equal(b.done, true);
  assert.equal(a.done, false);
  // Cancelling a waiting sequence removes it from the queue.
  const c = submit(150, 10);
  const d = submit(150, 10);
  clock.advance(0.1);
  assert.equal(engine.waiting, 1);
  d.cancel();
  assert.equal(engine.waiting, 0);
  c.cancel();
  clock.advance(1000);
  assert.equal(engine.running, 0);
  assert.equal(engine.usedBlocks, 0);
});

test('a full cache mid-generation preempts the most recently admitted sequence, which resumes later with its tokens', () => {
  // 8 blocks = 128 tokens; two sequences of 48-token prompts growing by 40 tokens each cannot both finish together.
  const { clock, submit, engine } = setup({ kvCacheTokens: 128 });
  const a = submit(48, 40);
  const b = submit(48, 40);
  clock.advance(100_000);
  assert.ok(a.done && b.done);
  assert.equal(a.tokens, 40);
  assert.equal(b.tokens, 40);
  assert.ok(engine.counters.preemptions >= 1, 'b was preempted to let a grow');
  assert.equal(engine.usedBlocks, 0);
  assert.ok(Math.max(...a.tokenTimes) < Math.max(...b.tokenTimes), 'the preempted one finishes last');
});

test('steps chain on absolute deadlines: 1000 steps of 11 ms end at exactly 11 s plus the prefill', () => {
  const { clock, submit } = setup();
  const s = submit(2, 1000);
  clock.advance(20_000);
  assert.equal(s.tokenTimes.length, 1000);
  assert.equal(s.tokenTimes.at(-1), 1 + 1000 * 11);
});

test('GpuBusyMeter: the fraction of the last second with work on the GPU', () => {
  const clock = new FakeClock();
  const gpu = new GpuBusyMeter(clock, 1000);
  assert.equal(gpu.utilization(), 0);
  gpu.begin();
  clock.advance(250);
  gpu.begin(); // nested work counts once
  clock.advance(250);
  gpu.end();
  gpu.end();
  assert.equal(gpu.utilization(), 0.5);
  clock.advance(250);
  assert.equal(gpu.utilization(), 0.5);
  clock.advance(750); // window is now 500..1500: busy 0..500 no longer overlaps
  assert.equal(gpu.utilization(), 0);
  gpu.begin();
  clock.advance(2000);
  assert.equal(gpu.utilization(), 1);
});

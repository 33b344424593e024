// The future-event list: time order, and insertion order among equal times (the determinism invariant).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventQueue } from '../../../loadtests/simulator/event-queue.js';
import { SeededRandom } from '../../../loadtests/simulator/seeded-random.js';

interface E {
  time: number;
  seq: number;
  label: number;
}

describe('EventQueue', () => {
  it('pops in time order, equal times in insertion order', () => {
    const q = new EventQueue<E>();
    const times = [5, 1, 3, 1, 5, 0, 3, 3];
    times.forEach((time, label) => q.push({ time, seq: 0, label }));
    const out: [number, number][] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) out.push([e.time, e.label]);
    assert.deepEqual(out, [[0, 5], [1, 1], [1, 3], [3, 2], [3, 6], [3, 7], [5, 0], [5, 4]]);
  });

  it('matches a stable sort on 10 000 random events with many ties, interleaving pushes and pops', () => {
    const random = new SeededRandom(7);
    const q = new EventQueue<E>();
    const all: E[] = [];
    const popped: E[] = [];
    let label = 0;
    let now = 0;
    for (let i = 0; i < 10_000; i++) {
      // Never schedule into the past, as the simulation never does.
      const e = { time: now + Math.floor(random.next() * 50), seq: 0, label: label++ };
      q.push(e);
      all.push(e);
      if (random.next() < 0.4) {
        const p = q.pop() as E;
        now = p.time;
        popped.push(p);
      }
    }
    for (let e = q.pop(); e !== undefined; e = q.pop()) popped.push(e);
    assert.equal(popped.length, all.length);
    for (let i = 1; i < popped.length; i++) {
      const a = popped[i - 1] as E;
      const b = popped[i] as E;
      assert.ok(a.time < b.time || (a.time === b.time && a.label < b.label), `out of order at ${i}: ${JSON.stringify(a)} then ${JSON.stringify(b)}`);
    }
  });

  it('refuses a non-finite time', () => {
    assert.throws(() => new EventQueue<E>().push({ time: Number.NaN, seq: 0, label: 0 }), RangeError);
  });
});

describe('SeededRandom', () => {
  it('repeats for a seed, differs across seeds, and forks independent streams', () => {
    const a = new SeededRandom(1);
    const b = new SeededRandom(1);
    const c = new SeededRandom(2);
    const xa = Array.from({ length: 5 }, a.next);
    assert.deepEqual(xa, Array.from({ length: 5 }, b.next));
    assert.notDeepEqual(xa, Array.from({ length: 5 }, c.next));
    const f1 = new SeededRandom(1).fork('x').next();
    assert.equal(f1, new SeededRandom(1).fork('x').next());
    assert.notEqual(f1, new SeededRandom(1).fork('y').next());
  });
});

// The simulator's future-event list: a binary min-heap on (time, insertion order). The insertion
// order breaks ties so two events at the same virtual instant always run in the order they were
// scheduled — the invariant that makes a run reproducible for a given seed.

export interface SimEvent {
  /** Virtual time in seconds. */
  readonly time: number;
  /** Set by the queue: insertion order, the tie-break. */
  seq: number;
}

export class EventQueue<E extends SimEvent> {
  readonly #heap: E[] = [];
  #nextSeq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(event: E): void {
    if (!Number.isFinite(event.time)) throw new RangeError(`event time must be finite, got ${event.time}`);
    event.seq = this.#nextSeq++;
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as E;
      if (!before(event, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  peek(): E | undefined {
    return this.#heap[0];
  }

  pop(): E | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(heap[r] as E, heap[l] as E)) c = r;
      const child = heap[c] as E;
      if (!before(child, last)) break;
      heap[i] = child;
      i = c;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

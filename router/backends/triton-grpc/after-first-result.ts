// Backends resolve only once the first result is in, so a failure before any output is thrown to
// the caller (a proper status, and the cluster may still retry) rather than surfacing mid-stream.
export async function afterFirstResult<T>(iterator: AsyncGenerator<T, void, undefined>): Promise<AsyncGenerator<T, void, undefined>> {
  const first = await iterator.next();
  return resume(first, iterator);
}

async function* resume<T>(first: IteratorResult<T, void>, rest: AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
  if (first.done === true) return;
  yield first.value;
  yield* rest;
}

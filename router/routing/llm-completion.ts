// When an LlmResult is over. A generation's answer outlives the call that returned it (events are
// iterated, a relayed body is read), so "done" means consumed to the end, failed, or abandoned.
// watchCompletion observes the client's answer without changing it; consumeLlmResult reads and
// drops an answer nobody will see (a shadow copy's).
import { finished } from 'node:stream/promises';
import { asSwitchyardError, type CanonicalCode } from '../core/errors.js';
import type { LlmEvent, LlmResult } from '../core/llm.js';

/**
 * The same result, with `onDone` called once: 'OK' when consumed to the end, the error's canonical
 * code when it failed, CANCELLED when the consumer stopped early (the client went away). The event
 * iterator delegates next/return/throw one to one (no generator in between, so no extra queueing),
 * and a relayed body only gains 'end'/'error'/'close' listeners, which do not start its flow.
 */
export function watchCompletion(result: LlmResult, onDone: (status: CanonicalCode) => void): LlmResult {
  let called = false;
  const done = (status: CanonicalCode): void => {
    if (called) return;
    called = true;
    onDone(status);
  };
  if (result.kind === 'relay') {
    result.body.once('end', () => done('OK'));
    result.body.once('error', (err: unknown) => done(asSwitchyardError(err).canonical));
    result.body.once('close', () => done('CANCELLED'));
    return result;
  }
  const source = result.events;
  const events: AsyncIterable<LlmEvent> = {
    [Symbol.asyncIterator](): AsyncIterator<LlmEvent> {
      const it = source[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const step = await it.next();
            // 'end' is the last event of a successful generation, whether or not the consumer asks for more.
            if (step.done === true || step.value.type === 'end') done('OK');
            return step;
          } catch (err) {
            done(asSwitchyardError(err).canonical);
            throw err;
          }
        },
        async return(value?: unknown) {
          done('CANCELLED');
          return it.return === undefined ? { done: true, value: undefined } : it.return(value);
        },
        async throw(err?: unknown) {
          done(asSwitchyardError(err).canonical);
          if (it.throw === undefined) throw err;
          return it.throw(err);
        },
      };
    },
  };
  return { kind: 'events', events };
}

/** Reads a result to its end and drops it; rejects when the answer fails part-way. */
export async function consumeLlmResult(result: LlmResult): Promise<void> {
  if (result.kind === 'relay') {
    result.body.resume();
    await finished(result.body);
    return;
  }
  const it = result.events[Symbol.asyncIterator]();
  // An answer that stops short of its 'end' event throws from next(), which rejects here.
  while ((await it.next()).done !== true);
}

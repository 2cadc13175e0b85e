import { describe, expect, it } from 'vitest';

import { Coalescer } from './coalescer.js';

/** A statement that answers each item after `release()`; it records what it was sent. */
function fakeStatements(answer: (item: number) => number | Error = (n) => n * 10) {
  const sent: { key: string; items: number[] }[] = [];
  const pending: (() => void)[] = [];
  let fail: unknown = null;
  const run = (key: string, items: number[]) =>
    new Promise<(number | Error)[]>((resolve, reject) => {
      sent.push({ key, items });
      pending.push(() => (fail ? reject(fail) : resolve(items.map(answer))));
    });
  return {
    sent,
    run,
    failNext(error: unknown) {
      fail = error;
    },
    /** Lets every statement sent so far return; then one turn of the event loop passes. */
    async release() {
      const now = pending.splice(0);
      for (const done of now) done();
      fail = null;
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    },
  };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  it('sends what arrives in one turn as one statement, in order, and answers each item', async () => {
    const s = fakeStatements();
    const c = new Coalescer(s.run, { maxBatch: 10, maxInFlight: 1, retryAlone: () => false });
    const answers = Promise.all([1, 2, 3].map((n) => c.submit('k', n)));
    await turn();
    expect(s.sent).toEqual([{ key: 'k', items: [1, 2, 3] }]);
    await s.release();
    expect(await answers).toEqual([10, 20, 30]);
  });

  it('queues while the key has maxInFlight statements out, then sends the queue together', async () => {
    const s = fakeStatements();
    const c = new Coalescer(s.run, { maxBatch: 3, maxInFlight: 1, retryAlone: () => false });
    const first = c.submit('k', 1);
    await turn();
    const later = [2, 3, 4, 5].map((n) => c.submit('k', n));
    await turn();
    // One statement in flight: the others wait for it.
    expect(s.sent.map((x) => x.items)).toEqual([[1]]);
    await s.release();
    // Then at most maxBatch of them, the rest after that one.
    expect(s.sent.map((x) => x.items)).toEqual([[1], [2, 3, 4]]);
    await s.release();
    expect(s.sent.map((x) => x.items)).toEqual([[1], [2, 3, 4], [5]]);
    await s.release();
    expect(await Promise.all([first, ...later])).toEqual([10, 20, 30, 40, 50]);
  });

  it('keeps keys apart', async () => {
    const s = fakeStatements();
    const c = new Coalescer(s.run, { maxBatch: 10, maxInFlight: 1, retryAlone: () => false });
    const answers = Promise.all([c.submit('a', 1), c.submit('b', 2), c.submit('a', 3)]);
    await turn();
    expect(s.sent).toEqual([
      { key: 'a', items: [1, 3] },
      { key: 'b', items: [2] },
    ]);
    await s.release();
    expect(await answers).toEqual([10, 20, 30]);
  });

  it('rejects only the item whose answer is an Error', async () => {
    const s = fakeStatements((n) => (n === 2 ? new Error('refused') : n));
    const c = new Coalescer(s.run, { maxBatch: 10, maxInFlight: 1, retryAlone: () => false });
    const answers = [1, 2, 3].map((n) => c.submit('k', n).catch((e: Error) => e.message));
    await turn();
    await s.release();
    expect(await Promise.all(answers)).toEqual([1, 'refused', 3]);
  });

  it('sends each item again alone when the statement failed as a whole and wrote nothing', async () => {
    const s = fakeStatements((n) => n);
    const c = new Coalescer(s.run, { maxBatch: 10, maxInFlight: 1, retryAlone: (e) => e === 'rolled back' });
    const answers = [1, 2].map((n) => c.submit('k', n));
    await turn();
    s.failNext('rolled back');
    await s.release();
    expect(s.sent.map((x) => x.items)).toEqual([[1, 2], [1], [2]]);
    await s.release();
    expect(await Promise.all(answers)).toEqual([1, 2]);
  });

  it('fails every item, and sends nothing again, when the outcome is unknown', async () => {
    const s = fakeStatements((n) => n);
    const c = new Coalescer(s.run, { maxBatch: 10, maxInFlight: 1, retryAlone: (e) => e === 'rolled back' });
    const answers = [1, 2].map((n) => c.submit('k', n).catch((e: unknown) => e));
    await turn();
    s.failNext('connection lost');
    await s.release();
    expect(await Promise.all(answers)).toEqual(['connection lost', 'connection lost']);
    expect(s.sent.map((x) => x.items)).toEqual([[1, 2]]);
  });
});

import { EventEmitter } from 'node:events';

import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';

import { CorrectionTurns, correctionTurnsOf } from './correction-turns.js';

describe('CorrectionTurns', () => {
  it('runs at most its size at once, the rest in order, and passes the turn on after a failure', async () => {
    const turns = new CorrectionTurns(2);
    let now = 0;
    let most = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const runs = Array.from({ length: 6 }, (_, i) =>
      turns
        .run(async () => {
          now++;
          most = Math.max(most, now);
          await new Promise<void>((resolve) => gates.push(resolve));
          order.push(i);
          now--;
          if (i === 1) throw new Error('failed');
          return i;
        })
        .catch(() => -1),
    );
    for (let k = 0; k < 6; k++) {
      await new Promise((resolve) => setImmediate(resolve));
      gates.shift()!();
    }
    expect(await Promise.all(runs)).toEqual([0, -1, 2, 3, 4, 5]);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });

  it('yields to other requests: one at a time while any is in flight, its size again once they are gone', async () => {
    let others = 3;
    const turns: CorrectionTurns = new CorrectionTurns(2, (): number => others + turns.queued);
    let now = 0;
    const most: number[] = [];
    const gates: (() => void)[] = [];
    const runs = Array.from({ length: 5 }, () =>
      turns.run(async () => {
        now++;
        most.push(now);
        await new Promise<void>((resolve) => gates.push(resolve));
        now--;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect([now, turns.queued]).toEqual([1, 5]);
    gates.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(now).toBe(1);
    // The other requests answered: the next turn passes on to two at once.
    others = 0;
    gates.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(now).toBe(2);
    while (gates.length > 0) {
      gates.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(runs);
    expect([Math.max(...most), turns.queued]).toEqual([2, 0]);
  });

  /** A request as `intake` sees it: its method, whether its body is in, and a response that closes. */
  function exchange(method = 'POST', complete = true) {
    const res = new EventEmitter();
    return { req: { method, complete } as Request, res: res as unknown as Response, close: () => res.emit('close') };
  }
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('takes corrections in as they arrive: each in its turn, in order, holding it until answered and done', async () => {
    const turns = new CorrectionTurns(1);
    const taken: number[] = [];
    const requests = Array.from({ length: 3 }, (_, i) => {
      // The first as the HTTP parser hands it over: its body, in the same packet, parsed after its
      // headers in the same turn of the event loop (after the callbacks those ran).
      const x = exchange('POST', i > 0);
      turns.intake(x.req, x.res, () => taken.push(i));
      void Promise.resolve()
        .then(() => undefined)
        .then(() => ((x.req as { complete: boolean }).complete = true));
      return x;
    });
    const get = exchange('GET');
    let got = false;
    turns.intake(get.req, get.res, () => (got = true));
    await tick();
    // Only the first is read; the others wait, counted; a GET is not a correction and goes on.
    expect([taken, turns.queued, got]).toEqual([[0], 3, true]);
    requests[0].close();
    await tick();
    expect([taken, turns.queued]).toEqual([[0, 1], 2]);
    requests[1].close();
    await tick();
    requests[2].close();
    await tick();
    expect([taken, turns.queued]).toEqual([[0, 1, 2], 0]);
  });

  it('runs the correction of a request taken in in its turn, once, and holds the turn until it is done', async () => {
    const turns = new CorrectionTurns(1);
    const x = exchange();
    const gates: (() => void)[] = [];
    const work = () => new Promise<string>((resolve) => gates.push(() => resolve('done')));
    let joined: Promise<string> | undefined;
    let second: Promise<string> | undefined;
    turns.intake(x.req, x.res, () => {
      joined = turns.run(work);
      second = turns.run(work);
    });
    await tick();
    // The first run joins the request's turn at once; the second waits for a turn of its own.
    expect([gates.length, turns.queued]).toEqual([1, 2]);
    // The client went away before the correction was done: the turn is held until it is.
    x.close();
    await tick();
    expect(gates.length).toBe(1);
    gates.shift()!();
    expect(await joined).toBe('done');
    await tick();
    expect(gates.length).toBe(1);
    gates.shift()!();
    expect(await second).toBe('done');
    expect(turns.queued).toBe(0);
  });

  it('skips a request whose client went away while it waited, and holds no turn for a body still coming', async () => {
    const turns = new CorrectionTurns(1);
    const first = exchange();
    const gone = exchange();
    const slow = exchange('POST', false);
    const after = exchange();
    const taken: string[] = [];
    turns.intake(first.req, first.res, () => taken.push('first'));
    turns.intake(gone.req, gone.res, () => taken.push('gone'));
    turns.intake(slow.req, slow.res, () => taken.push('slow'));
    turns.intake(after.req, after.res, () => taken.push('after'));
    await tick();
    gone.close();
    first.close();
    await tick();
    await tick();
    // `gone` is not read; `slow` goes on without a turn (its correction would take its own); `after` has the turn.
    expect([taken, turns.queued]).toEqual([['first', 'slow', 'after'], 1]);
    after.close();
    await tick();
    expect(turns.queued).toBe(0);
  });

  it('takes a quarter of the pool, at least one', () => {
    expect([1, 4, 10, 20, 100].map(correctionTurnsOf)).toEqual([1, 1, 2, 5, 25]);
  });
});

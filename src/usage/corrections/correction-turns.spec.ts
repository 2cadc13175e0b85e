import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { describe, expect, it } from 'vitest';

import { CORRECTIONS_PATH } from '../../common/http/deferred-routes.js';
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
    // Corrections run by `run` alone (a job's) are no requests: the requests in flight are the others.
    let others = 3;
    const turns = new CorrectionTurns(2, () => others);
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
  function exchange(method = 'POST', complete = true, url = '/api/usage/records/r1/corrections') {
    const res = new EventEmitter();
    return {
      req: { method, complete, url } as IncomingMessage,
      res: res as unknown as ServerResponse,
      close: () => res.emit('close'),
    };
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

  it('counts the requests it handed on to the app as its own, not as other requests in flight', async () => {
    // The app counts every request it serves (the metrics middleware); the corrections waiting ahead
    // of it are not among them yet.
    let others = 1;
    let inApp = 0;
    const turns = new CorrectionTurns(2, () => others + inApp);
    const taken: number[] = [];
    const requests = Array.from({ length: 3 }, (_, i) => {
      const x = exchange();
      x.res.once('close', () => inApp--);
      turns.intake(x.req, x.res, () => {
        inApp++;
        taken.push(i);
      });
      return x;
    });
    await tick();
    // One request of another kind in flight: one correction at a time.
    expect([taken, turns.queued]).toEqual([[0], 3]);
    others = 0;
    requests[0].close();
    await tick();
    // Only corrections in the app: two at once.
    expect([taken, turns.queued]).toEqual([[0, 1, 2], 2]);
    requests[1].close();
    requests[2].close();
    await tick();
    expect(turns.queued).toBe(0);
  });

  it('ahead of the app: a correction waits for its turn before the app sees it, any other request goes straight on', async () => {
    const turns = new CorrectionTurns(1);
    const seen: string[] = [];
    const listener = turns.aheadOf((req) => seen.push(`${req.method} ${req.url}`), CORRECTIONS_PATH);
    const first = exchange();
    const second = exchange('POST', true, '/API/usage/records/r2/corrections/?dry=1');
    listener(first.req, first.res);
    listener(second.req, second.res);
    for (const [method, url] of [
      ['GET', '/api/usage/records/r1/corrections'],
      ['POST', '/api/usage/record'],
      ['POST', '/api/usage/records/r1/corrections/x'],
    ]) {
      const x = exchange(method, true, url);
      listener(x.req, x.res);
    }
    await tick();
    // The first correction had its turn at once; the second waits for it.
    expect(seen).toEqual([
      'POST /api/usage/records/r1/corrections',
      'GET /api/usage/records/r1/corrections',
      'POST /api/usage/record',
      'POST /api/usage/records/r1/corrections/x',
    ]);
    expect(turns.queued).toBe(2);
    first.close();
    await tick();
    expect(seen.at(-1)).toBe('POST /API/usage/records/r2/corrections/?dry=1');
    second.close();
    await tick();
    expect(turns.queued).toBe(0);
  });

  it('takes a quarter of the pool, at least one', () => {
    expect([1, 4, 10, 20, 100].map(correctionTurnsOf)).toEqual([1, 1, 2, 5, 25]);
  });
});

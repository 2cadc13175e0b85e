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

  it('takes a quarter of the pool, at least one', () => {
    expect([1, 4, 10, 20, 100].map(correctionTurnsOf)).toEqual([1, 1, 2, 5, 25]);
  });
});

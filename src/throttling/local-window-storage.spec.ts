import { afterEach, describe, expect, it } from 'vitest';

import { LocalWindowStorage } from './local-window-storage.js';

describe('LocalWindowStorage', () => {
  let clock = 1_000_000;
  let storage: LocalWindowStorage;
  const make = () => (storage = new LocalWindowStorage(60_000, () => clock));
  afterEach(() => storage?.close());

  const hit = (key = 'user:a', limit = 3, ttl = 60_000, block = 60_000) =>
    storage.increment(key, ttl, limit, block, 'default');

  it('counts a fixed window, then blocks beyond the limit until the block runs out', () => {
    make();
    expect(hit()).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    clock += 10_000;
    expect(hit()).toMatchObject({ totalHits: 2, timeToExpire: 50, isBlocked: false });
    expect(hit()).toMatchObject({ totalHits: 3, isBlocked: false });
    // The fourth request of the window is refused: blocked for blockDuration from now.
    expect(hit()).toEqual({ totalHits: 4, timeToExpire: 50, isBlocked: true, timeToBlockExpire: 60 });
    clock += 30_500;
    expect(hit()).toEqual({ totalHits: 5, timeToExpire: 20, isBlocked: true, timeToBlockExpire: 30 });
  });

  it('a new window starts from zero; a block outlives the window it began in', () => {
    make();
    for (let i = 0; i < 3; i++) hit('user:b', 3, 10_000, 25_000);
    expect(hit('user:b', 3, 10_000, 25_000)).toMatchObject({ isBlocked: true, timeToBlockExpire: 25 });
    clock += 10_000; // the window ended, the block did not
    expect(hit('user:b', 3, 10_000, 25_000)).toEqual({
      totalHits: 1,
      timeToExpire: 10,
      isBlocked: true,
      timeToBlockExpire: 15,
    });
    clock += 15_000; // block over, second window over too
    expect(hit('user:b', 3, 10_000, 25_000)).toEqual({
      totalHits: 1,
      timeToExpire: 10,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('keeps principals and limits apart', () => {
    make();
    for (let i = 0; i < 3; i++) hit('user:c', 3);
    expect(hit('user:c', 3).isBlocked).toBe(true);
    expect(hit('user:d', 3)).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(storage.increment('user:c', 60_000, 3, 60_000, 'auth-failure')).toMatchObject({ totalHits: 1 });
  });

  it('tells how long a key stays blocked without counting a hit', () => {
    make();
    expect(storage.blockedFor('user:h', 'default')).toBe(0);
    for (let i = 0; i < 3; i++) hit('user:h', 3, 60_000, 30_000);
    expect(storage.blockedFor('user:h', 'default')).toBe(0);
    expect(hit('user:h', 3, 60_000, 30_000).isBlocked).toBe(true);
    clock += 10_500;
    expect(storage.blockedFor('user:h', 'default')).toBe(20);
    expect(storage.blockedFor('user:h', 'auth-failure')).toBe(0);
    expect(hit('user:h', 3, 60_000, 30_000).totalHits).toBe(5);
    clock += 19_500;
    expect(storage.blockedFor('user:h', 'default')).toBe(0);
  });

  it('forgets ended windows and finished blocks, and nothing else', () => {
    make();
    hit('user:e', 3, 10_000, 10_000);
    for (let i = 0; i < 4; i++) hit('user:f', 3, 10_000, 50_000);
    hit('user:g', 3, 60_000, 60_000);
    clock += 10_000;
    storage.evictEnded();
    // e's window ended; f's window ended but its block runs on; g's window is open.
    expect(storage.size).toBe(2);
    expect(hit('user:f', 3, 10_000, 50_000).isBlocked).toBe(true);
    clock += 60_000;
    storage.evictEnded();
    expect(storage.size).toBe(0);
  });
});

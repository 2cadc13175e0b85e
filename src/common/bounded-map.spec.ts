import { describe, expect, it } from 'vitest';

import { BoundedMap } from './bounded-map.js';

describe('BoundedMap', () => {
  it('drops the oldest entry when a set passes the limit', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('c', 3);
    expect([...map.entries()]).toEqual([
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('moves a key set again to the newest place, so it outlives older ones', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 10).set('c', 3);
    expect([...map.entries()]).toEqual([
      ['a', 10],
      ['c', 3],
    ]);
  });

  it('never holds more than its limit', () => {
    const map = new BoundedMap<number, number>(100);
    for (let i = 0; i < 1_000; i++) map.set(i % 250, i);
    expect(map.size).toBe(100);
  });
});

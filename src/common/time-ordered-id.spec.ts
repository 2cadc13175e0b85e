import { describe, expect, it } from 'vitest';

import { timeOrderedId } from './time-ordered-id.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedId', () => {
  it('is a version 7 UUID of the RFC variant whose first 48 bits are the time in milliseconds', () => {
    const at = Date.UTC(2026, 10, 24, 3, 10, 16, 123);
    const id = timeOrderedId(at);
    expect(id).toMatch(V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it('sorts as its times do, whatever its random bits', () => {
    const times = [0, 1, 255, 256, 65_535, 65_536, Date.UTC(1999, 0, 1), Date.UTC(2026, 10, 24), 2 ** 48 - 1];
    const ids = times.map((t) => timeOrderedId(t));
    expect([...ids].sort()).toEqual(ids);
    ids.forEach((id) => expect(id).toMatch(V7));
  });

  it('differs between two ids of the same millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => timeOrderedId(1_800_000_000_000)));
    expect(ids.size).toBe(1000);
  });

  it('strictly increases within one millisecond, past the counter running out', () => {
    const ids = Array.from({ length: 5000 }, () => timeOrderedId(1_900_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(5000);
    ids.forEach((id) => expect(id).toMatch(V7));
  });
});

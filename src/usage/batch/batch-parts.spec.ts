import { describe, expect, it } from 'vitest';

import { partsByAccount } from './usage-batch.service.js';

/** An event charging the account `accountId` (as the payer resolved it). */
const event = (accountId: string | null, n = 0) => ({ input: { accountId }, n });

describe('partsByAccount', () => {
  it("keeps each account's events in one part, in array order, and loses none", () => {
    const items = Array.from({ length: 500 }, (_, n) => event(String(n % 7 === 0 ? 1000 + (n % 3) : n % 41), n));
    const parts = partsByAccount(items, 2);
    expect(parts).toHaveLength(2);
    expect(
      parts
        .flat()
        .map((e) => e.n)
        .sort((a, b) => a - b),
    ).toEqual(items.map((e) => e.n));
    const partOf = new Map<string | null, number>();
    parts.forEach((part, p) => {
      const ns = part.map((e) => e.n);
      expect([...ns].sort((a, b) => a - b)).toEqual(ns);
      for (const e of part) {
        expect(partOf.get(e.input.accountId) ?? p).toBe(p);
        partOf.set(e.input.accountId, p);
      }
    });
  });

  it("charges one account's events (an organisation's, whatever the member) to one part", () => {
    const items = Array.from({ length: 200 }, (_, n) => event('42', n));
    expect(partsByAccount(items, 2).map((p) => p.length)).toEqual([200]);
  });

  it('keeps the events of owners without an account together', () => {
    const items = Array.from({ length: 200 }, (_, n) => event(n % 2 === 0 ? null : String(n), n));
    const parts = partsByAccount(items, 2);
    expect(parts.flat()).toHaveLength(200);
    expect(parts.filter((part) => part.some((e) => e.input.accountId === null))).toHaveLength(1);
  });

  it('leaves a small batch whole, and one part when asked for one', () => {
    const few = Array.from({ length: 63 }, (_, n) => event(String(n), n));
    expect(partsByAccount(few, 2)).toEqual([few]);
    const many = Array.from({ length: 64 }, (_, n) => event(String(n), n));
    expect(partsByAccount(many, 1)).toEqual([many]);
    expect(partsByAccount(many, 2).flat()).toHaveLength(64);
  });
});

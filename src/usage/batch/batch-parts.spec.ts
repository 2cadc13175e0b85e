import { describe, expect, it } from 'vitest';

import { chargedAccount } from '../../accounts/account-ref.js';
import { partsByAccount } from './usage-batch.service.js';

const event = (userId: string, orgId?: string, n = 0) => ({
  input: { account: chargedAccount(orgId ?? null, userId) },
  n,
});

describe('partsByAccount', () => {
  it("keeps each account's events in one part, in array order, and loses none", () => {
    const items = Array.from({ length: 500 }, (_, n) =>
      n % 7 === 0 ? event(`member-${n % 11}`, `org-${n % 3}`, n) : event(`user-${n % 41}`, undefined, n),
    );
    const parts = partsByAccount(items, 2);
    expect(parts).toHaveLength(2);
    expect(
      parts
        .flat()
        .map((e) => e.n)
        .sort((a, b) => a - b),
    ).toEqual(items.map((e) => e.n));
    const partOf = new Map<string, number>();
    parts.forEach((part, p) => {
      const ns = part.map((e) => e.n);
      expect([...ns].sort((a, b) => a - b)).toEqual(ns);
      for (const e of part) {
        const { kind, ownerId } = e.input.account;
        const account = `${kind}:${ownerId}`;
        expect(partOf.get(account) ?? p).toBe(p);
        partOf.set(account, p);
      }
    });
  });

  it("charges an organisation's events to the organisation's part whatever the member", () => {
    const items = Array.from({ length: 200 }, (_, n) => event(`member-${n}`, 'org-one', n));
    expect(partsByAccount(items, 2).map((p) => p.length)).toEqual([200]);
  });

  it('leaves a small batch whole, and one part when asked for one', () => {
    const few = Array.from({ length: 63 }, (_, n) => event(`user-${n}`, undefined, n));
    expect(partsByAccount(few, 2)).toEqual([few]);
    const many = Array.from({ length: 64 }, (_, n) => event(`user-${n}`, undefined, n));
    expect(partsByAccount(many, 1)).toEqual([many]);
    expect(partsByAccount(many, 2).flat()).toHaveLength(64);
  });
});

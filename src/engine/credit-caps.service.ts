import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { type CapRow, type CapSubject, CreditCapsRepository } from './credit-caps.repository.js';
import type { MemberLimitState } from './credits-results.js';

export type { CapRow } from './credit-caps.repository.js';

/** A limit as its owner sets it: credits per period (a key's periods include `total`). */
export interface CapLimit {
  credits: number;
  period: string;
}

/**
 * The limits of the caps (docs/spend-controls.md), owned by the credits module: API keys and orgs set,
 * clear and read them here, in their own transaction (`m`); the engine's functions read them under the
 * account's lock. Setting or clearing a limit never resets what was spent.
 */
@Injectable()
export class CreditCapsService {
  constructor(private readonly repo: CreditCapsRepository) {}

  /** A member of an org as a cap's subject: the org's account (`accountId`, resolved at the edge). */
  private member(accountId: string | null): CapSubject {
    return { kind: 'member', accountId };
  }

  /** The budgets of these keys that have one, with what each counted in its period now. */
  keyCaps(m: EntityManager, keyIds: string[]): Promise<Map<string, CapRow>> {
    return this.repo.find(m, { kind: 'key' }, keyIds, null);
  }

  /** Sets (or, with null, removes) the budget of a key of `ownerId` (its limit event names them). */
  setKeyCap(m: EntityManager, keyId: string, ownerId: string, limit: CapLimit | null): Promise<void> {
    return limit === null
      ? this.repo.clear(m, { kind: 'key' }, keyId)
      : this.repo.set(m, { kind: 'key' }, keyId, { ...limit, ownerId });
  }

  /**
   * The limits of these members of the org (its account: `accountId`) that have one, with what each
   * spent in its period at `at`.
   */
  async memberCaps(
    m: EntityManager,
    accountId: string | null,
    userIds: string[],
    at: Date | null,
  ): Promise<Map<string, CapRow>> {
    if (userIds.length === 0) return new Map();
    return this.repo.find(m, this.member(accountId), userIds, at);
  }

  /**
   * A member's limit as a refusal reports it: the limit, what they spent from the org in its current
   * period (open holds included) and when the period ends; null without a limit.
   */
  async memberLimit(m: EntityManager, accountId: string | null, userId: string): Promise<MemberLimitState | null> {
    const cap = (await this.memberCaps(m, accountId, [userId], null)).get(userId);
    // A member's periods (day, week, month) always end.
    return cap ? { limit: cap.limit, spentInPeriod: cap.spentInPeriod, resetsAt: cap.resetsAt!.toISOString() } : null;
  }

  /** Sets (or, with null, removes) a member's spend limit in the org (its account: `accountId`). */
  async setMemberCap(m: EntityManager, accountId: string, userId: string, limit: CapLimit | null): Promise<void> {
    const subject = this.member(accountId);
    return limit === null
      ? this.repo.clear(m, subject, userId)
      : this.repo.set(m, subject, userId, { ...limit, ownerId: null });
  }
}

import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ErasedPerson, ErasedRows } from '../common/erasure.js';
import type { ScopeKind } from '../common/validation/budget-scopes.js';
import { AccountLocksRepository } from './account-locks.repository.js';
import {
  type AutoRechargeAttemptRow,
  AutoRechargeRepository,
  type AutoRechargeSettingsRow,
  type FailOutcome,
  type SucceedOutcome,
} from './auto-recharge/auto-recharge.repository.js';
import { AutoRechargeAttempts } from './auto-recharge/auto-recharge-attempts.service.js';
import { type BudgetRow, CreditBudgetsRepository, type NewBudget } from './budgets/credit-budgets.repository.js';
import { CreditAccountsRepository, type CreditSettings } from './credit-accounts.repository.js';
import { type CapRow, CreditCapsRepository } from './credit-caps.repository.js';
import { type CapLimit, CreditCapsService } from './credit-caps.service.js';
import { CreditTransfersRepository } from './credit-transfers.repository.js';
import { CreditsErasureRepository } from './credits-erasure.repository.js';
import type { CreditAccount } from './entities/credit-account.entity.js';

/**
 * The engine's door for what an account is besides its balance: its lock (docs/money.md "The account
 * lock") and what changes under it (money settings, key and member limits, budgets, auto-recharge),
 * its debt, its erasure. Callers above the engine (the credits tenants, plans, purchases, orgs, API
 * keys, users) take the account lock only here, and never reach the engine's repositories or its SQL
 * functions.
 */
@Injectable()
export class CreditAccountsService {
  constructor(
    private readonly locks: AccountLocksRepository,
    private readonly accounts: CreditAccountsRepository,
    private readonly caps: CreditCapsService,
    private readonly capEvents: CreditCapsRepository,
    private readonly budgets: CreditBudgetsRepository,
    private readonly recharge: AutoRechargeRepository,
    private readonly attempts: AutoRechargeAttempts,
    private readonly transfers: CreditTransfersRepository,
    private readonly erasure: CreditsErasureRepository,
  ) {}

  /**
   * Takes the account lock (docs/money.md "The account lock") until `m`'s transaction ends: every
   * movement of credits, and every change of what a movement reads, takes it first. False when no
   * account has that id.
   */
  lockAccount(m: EntityManager, accountId: string): Promise<boolean> {
    return this.locks.lockId(m, accountId);
  }

  /** The account's money settings (null: it has none, all defaults; or no account). */
  settings(accountId: string | null, m?: EntityManager): Promise<CreditAccount | null> {
    return this.accounts.find(accountId, m);
  }

  /** Applies the settings (the row made with defaults if missing); call under the account lock. */
  setSettings(m: EntityManager, accountId: string, settings: CreditSettings): Promise<CreditAccount> {
    return this.accounts.upsertSettings(m, accountId, settings);
  }

  /**
   * What a write on a rule with volume steps would be charged now against the account's period total
   * (docs/pricing.md "Volume steps"), and the step its last token reaches: a quote, read outside the lock.
   */
  volumePrice(m: EntityManager, accountId: string | null, volume: object): Promise<{ credits: number; step: number }> {
    return this.accounts.volumePrice(m, accountId, volume);
  }

  /** Accounts with debt, a user's or an organisation's, largest first. */
  debtors(limit: number): Promise<{ userId: string | null; orgId: string | null; debt: number }[]> {
    return this.accounts.debtors(limit);
  }

  /** The budgets of these keys that have one, with what each counted in its period now. */
  keyCaps(m: EntityManager, keyIds: string[]): Promise<Map<string, CapRow>> {
    return this.caps.keyCaps(m, keyIds);
  }

  /** Sets (or, with null, removes) the budget of a key of `ownerId`. */
  setKeyCap(m: EntityManager, keyId: string, ownerId: string, limit: CapLimit | null): Promise<void> {
    return this.caps.setKeyCap(m, keyId, ownerId, limit);
  }

  /** The limits of these members of the org (its account) that have one, with what each spent at `at`. */
  memberCaps(m: EntityManager, accountId: string | null, userIds: string[], at: Date | null) {
    return this.caps.memberCaps(m, accountId, userIds, at);
  }

  /** Sets (or, with null, removes) a member's spend limit in the org (its account: `accountId`). */
  setMemberCap(m: EntityManager, accountId: string, userId: string, limit: CapLimit | null): Promise<void> {
    return this.caps.setMemberCap(m, accountId, userId, limit);
  }

  /** Forgets the cap event ids older than `days`, a batch at a time; how many went. */
  forgetCapEventIds(m: EntityManager, days: number, batch: number): Promise<number> {
    return this.capEvents.deleteEventIdsOlderThan(m, days, batch);
  }

  /** The account's budget of that id (ids are per account). */
  budget(m: EntityManager, accountId: string, budgetId: string): Promise<BudgetRow | null> {
    return this.budgets.find(m, accountId, budgetId);
  }

  /** The budgets of that id on any account (at most two: enough to tell one from several). */
  budgetsAnywhere(m: EntityManager, budgetId: string): Promise<BudgetRow[]> {
    return this.budgets.findAnywhere(m, budgetId);
  }

  /** An account's budgets by budgetId, after `after` (keyset), at most `limit`. */
  budgetList(
    m: EntityManager,
    accountId: string,
    filter: { kind: ScopeKind | null; after: string | null },
    limit: number,
  ): Promise<BudgetRow[]> {
    return this.budgets.list(m, accountId, filter, limit);
  }

  /** How many budgets the chain from the account's `budgetId` up holds (itself included; 0: none). */
  budgetChainLength(m: EntityManager, accountId: string, budgetId: string): Promise<number> {
    return this.budgets.chainLength(m, accountId, budgetId);
  }

  /** The budget id of the account's budget on that scope, null when none. */
  budgetOfScope(m: EntityManager, accountId: string, kind: ScopeKind, id: string): Promise<string | null> {
    return this.budgets.findScope(m, accountId, kind, id);
  }

  /** Adds a budget (under the account lock); false when its id or scope was taken. */
  addBudget(m: EntityManager, b: NewBudget): Promise<boolean> {
    return this.budgets.insert(m, b);
  }

  /** Changes a budget's limit or expiry (under the account lock). */
  changeBudget(m: EntityManager, id: string, change: { limit?: number; expiresAt?: Date | null }): Promise<void> {
    return this.budgets.update(m, id, change);
  }

  /** Removes a budget (under the account lock). */
  removeBudget(m: EntityManager, budget: Pick<BudgetRow, 'id' | 'account_id' | 'budget_id'>): Promise<void> {
    return this.budgets.delete(m, budget);
  }

  /** The account's auto-recharge settings; null when it has none. */
  autoRecharge(m: EntityManager, accountId: string): Promise<AutoRechargeSettingsRow | null> {
    return this.recharge.settings(m, accountId);
  }

  /** Replaces the account's auto-recharge settings and the takes' threshold (under the account lock). */
  putAutoRecharge(
    m: EntityManager,
    accountId: string,
    s: Omit<AutoRechargeSettingsRow, 'consecutiveFailures'>,
    updatedBy: string,
    resetFailures: boolean,
  ): Promise<AutoRechargeSettingsRow> {
    return this.recharge.put(m, accountId, s, updatedBy, resetFailures);
  }

  /** The account's auto-recharge attempts, newest first. */
  rechargeAttempts(m: EntityManager, accountId: string, limit: number): Promise<AutoRechargeAttemptRow[]> {
    return this.recharge.attempts(m, accountId, limit);
  }

  /** An auto-recharge attempt; null when unknown. */
  rechargeAttempt(m: EntityManager, id: string): Promise<AutoRechargeAttemptRow | null> {
    return this.recharge.attempt(m, id);
  }

  /** Closes an attempt as failed (auto_recharge_fail()). */
  failRecharge(m: EntityManager, id: string, reason: string | null): Promise<FailOutcome> {
    return this.recharge.fail(m, id, reason);
  }

  /** For a purchase made for an attempt: the attempt must be the account's own (else 404) and open (else 409). */
  assertRechargeOpen(m: EntityManager, attemptId: string, accountId: string): Promise<void> {
    return this.attempts.assertOpen(m, attemptId, accountId);
  }

  /** The purchase made for an attempt is paid: the attempt closes as succeeded (never throws for its state). */
  rechargeSucceeded(m: EntityManager, attemptId: string, accountId: string): Promise<SucceedOutcome> {
    return this.attempts.succeed(m, attemptId, accountId);
  }

  /** The account's transfers, either way (null: every transfer), newest first; limit + 1 rows for the page. */
  transferList(query: { accountId: string | null; after: { t: string; id: string } | null; limit: number }) {
    return this.transfers.list(query);
  }

  /** An erasure's pass over the credit tables' words; the allocations and transfers it touched. */
  erase(m: EntityManager, person: ErasedPerson): Promise<ErasedRows[]> {
    return this.erasure.erase(m, person);
  }
}

// The types of the door's methods, so that a caller imports the door alone.
export type { AutoRechargeAttemptRow, AutoRechargeSettingsRow } from './auto-recharge/auto-recharge.repository.js';
export type { BudgetRow, NewBudget } from './budgets/credit-budgets.repository.js';
export type { CreditSettings } from './credit-accounts.repository.js';
export type { CapRow } from './credit-caps.repository.js';
export type { CapLimit } from './credit-caps.service.js';
export type { CreditAccount } from './entities/credit-account.entity.js';

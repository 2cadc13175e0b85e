import { Inject, Injectable } from '@nestjs/common';

import { AccountIds } from '../../accounts/account-ids.js';
import { AccountsService } from '../../accounts/accounts.service.js';
import type { AuditAction } from '../../audit/audit-actions.js';
import type { ResolvedAccount } from '../../auth/account-access.js';
import { Changes } from '../../changes/changes.js';
import { NotFoundError } from '../../common/errors/domain-error.js';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { AccountLocksRepository } from '../../engine/account-locks.repository.js';
import { CreditAccountsRepository, type CreditSettings } from '../../engine/credit-accounts.repository.js';
import type { CreditAccount } from '../../engine/entities/credit-account.entity.js';
import type { AlertThresholdsResponseDto, CreditLimitsResponseDto } from '../dto/limits.dto.js';

/** An account's limits without its owner (a user's routes add `userId`, an org's `orgId`). */
export type AccountLimitsView = Omit<CreditLimitsResponseDto, 'userId'>;
/** An account's alert thresholds: its own (`own`) or the defaults. */
export interface AccountAlertsView {
  thresholds: number[];
  own: boolean;
}

/**
 * An account's spend controls and alert thresholds (docs/money.md "Spend controls"), a user's or an
 * organisation's. Settings change under the account lock, so no movement sees half of a change.
 */
@Injectable()
export class CreditLimitsService {
  constructor(
    private readonly accounts: CreditAccountsRepository,
    @Inject(AccountsService) private readonly users: AccountsService,
    @Inject(AccountLocksRepository) private readonly locks: AccountLocksRepository,
    @Inject(Changes) private readonly changes: Changes,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(AccountIds) private readonly ids: AccountIds,
  ) {}

  async get(userId: string): Promise<CreditLimitsResponseDto> {
    if (!(await this.users.exists(this.changes.tx.statementManager, userId))) throw new NotFoundError('User');
    return { userId, ...(await this.limitsOf(await this.userAccountId(userId))) };
  }

  /** The account's limits (it must exist: the caller checked). */
  async limitsOf(accountId: string | null): Promise<AccountLimitsView> {
    return this.limitsView(await this.accounts.find(accountId, this.changes.tx.statementManager));
  }

  async put(
    userId: string,
    body: { overdraftLimit?: number; maxCreditsPerHour?: number | null },
  ): Promise<CreditLimitsResponseDto> {
    return { userId, ...(await this.putFor(await this.userAccount(userId), body, 'credits.limits.set')) };
  }

  /**
   * Sets the account's limits (fields left out keep their value), audited as `action`; of the
   * resolved account it takes the id, and the owner the audit entry names.
   */
  async putFor(
    account: Pick<ResolvedAccount, 'accountId' | 'kind' | 'ownerId'>,
    body: { overdraftLimit?: number; maxCreditsPerHour?: number | null },
    action: AuditAction,
  ): Promise<AccountLimitsView> {
    const settings: CreditSettings = {};
    if (body.overdraftLimit !== undefined) settings.overdraftLimit = body.overdraftLimit;
    if (body.maxCreditsPerHour !== undefined) settings.maxCreditsPerHour = body.maxCreditsPerHour;
    return this.limitsView(await this.update(account, settings, action));
  }

  async putAlerts(userId: string, thresholds: number[]): Promise<AlertThresholdsResponseDto> {
    const view = await this.putAlertsFor(await this.userAccount(userId), thresholds);
    return { userId, thresholds: view.thresholds, source: view.own ? 'user' : 'default' };
  }

  /** Replaces the account's low-balance thresholds (largest first, no repeats). */
  async putAlertsFor(
    account: Pick<ResolvedAccount, 'accountId' | 'kind' | 'ownerId'>,
    thresholds: number[],
  ): Promise<AccountAlertsView> {
    const unique = [...new Set(thresholds)].sort((a, b) => b - a);
    const row = await this.update(account, { lowBalanceThresholds: unique }, 'credits.alerts.set');
    return this.alertsView(row);
  }

  /** The thresholds in force for the user: their own (`user`), else LOW_BALANCE_THRESHOLDS (`default`). */
  async getAlerts(userId: string): Promise<AlertThresholdsResponseDto> {
    if (!(await this.users.exists(this.changes.tx.statementManager, userId))) throw new NotFoundError('User');
    const view = await this.alertsOf(await this.userAccountId(userId));
    return { userId, thresholds: view.thresholds, source: view.own ? 'user' : 'default' };
  }

  async alertsOf(accountId: string | null): Promise<AccountAlertsView> {
    return this.alertsView(await this.accounts.find(accountId, this.changes.tx.statementManager));
  }

  /** The account id of a user a user route names (AccountIds; null: none). */
  private userAccountId(userId: string): Promise<string | null> {
    return this.ids.of(this.changes.tx.statementManager, { userId });
  }

  /** A user route's account for a settings change: 404 for a user without one. */
  private async userAccount(userId: string): Promise<Pick<ResolvedAccount, 'accountId' | 'kind' | 'ownerId'>> {
    const accountId = await this.userAccountId(userId);
    if (accountId === null) throw new NotFoundError('User');
    return { accountId, kind: 'user', ownerId: userId };
  }

  private alertsView(row: CreditAccount | null): AccountAlertsView {
    const own = row?.lowBalanceThresholds ?? null;
    if (own !== null) return { thresholds: own, own: true };
    return { thresholds: [...this.config.credits.lowBalanceThresholds].sort((a, b) => b - a), own: false };
  }

  /** One settings change under the account lock, audited (an org's account names the org as target). */
  private update(
    account: Pick<ResolvedAccount, 'accountId' | 'kind' | 'ownerId'>,
    settings: CreditSettings,
    action: AuditAction,
  ): Promise<CreditAccount> {
    return this.changes.tx.run(async (m) => {
      if (!(await this.locks.lockId(m, account.accountId)))
        throw new NotFoundError(account.kind === 'org' ? 'Org' : 'User');
      const before = await this.accounts.find(account.accountId, m);
      const after = await this.accounts.upsertSettings(m, account.accountId, settings);
      await this.changes.audit.record(m, {
        action,
        targetId: account.ownerId,
        targetType: account.kind,
        before: settingsView(before),
        after: settingsView(after),
      });
      return after;
    });
  }

  private limitsView(row: CreditAccount | null): AccountLimitsView {
    const own = row?.maxCreditsPerHour ?? null;
    return {
      overdraftLimit: row?.overdraftLimit ?? 0,
      maxCreditsPerHour: own,
      effectiveMaxCreditsPerHour: own ?? this.config.credits.spendRatePerHour,
      debt: row?.debt ?? 0,
    };
  }
}

/** What the audit log keeps of an account's settings (absent row: the defaults, shown as null). */
function settingsView(row: CreditAccount | null) {
  return {
    overdraftLimit: row?.overdraftLimit ?? 0,
    maxCreditsPerHour: row?.maxCreditsPerHour ?? null,
    alertThresholds: row?.lowBalanceThresholds ?? null,
  };
}

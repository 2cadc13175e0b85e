import { Inject, Injectable } from '@nestjs/common';

import type { AuditAction } from '../../audit/audit-actions.js';
import type { ResolvedAccount } from '../../auth/account-access.js';
import { Changes } from '../../changes/changes.js';
import { NotFoundError } from '../../common/errors/domain-error.js';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import {
  type CreditAccount,
  CreditAccountsService,
  type CreditSettings,
} from '../../engine/credit-accounts.service.js';
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
    @Inject(CreditAccountsService) private readonly accounts: CreditAccountsService,
    @Inject(Changes) private readonly changes: Changes,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A user's limits: the user's account as the edge resolved it. */
  async get(account: ResolvedAccount): Promise<CreditLimitsResponseDto> {
    return { userId: account.ownerId, ...(await this.limitsOf(account.accountId)) };
  }

  /** The account's limits (it must exist: the caller checked). */
  async limitsOf(accountId: string | null): Promise<AccountLimitsView> {
    return this.limitsView(await this.accounts.settings(accountId, this.changes.tx.statementManager));
  }

  async put(
    account: ResolvedAccount,
    body: { overdraftLimit?: number; maxCreditsPerHour?: number | null },
  ): Promise<CreditLimitsResponseDto> {
    return { userId: account.ownerId, ...(await this.putFor(account, body, 'credits.limits.set')) };
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

  async putAlerts(account: ResolvedAccount, thresholds: number[]): Promise<AlertThresholdsResponseDto> {
    const view = await this.putAlertsFor(account, thresholds);
    return { userId: account.ownerId, thresholds: view.thresholds, source: view.own ? 'user' : 'default' };
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
  async getAlerts(account: ResolvedAccount): Promise<AlertThresholdsResponseDto> {
    const view = await this.alertsOf(account.accountId);
    return { userId: account.ownerId, thresholds: view.thresholds, source: view.own ? 'user' : 'default' };
  }

  async alertsOf(accountId: string | null): Promise<AccountAlertsView> {
    return this.alertsView(await this.accounts.settings(accountId, this.changes.tx.statementManager));
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
      if (!(await this.accounts.lockAccount(m, account.accountId)))
        throw new NotFoundError(account.kind === 'org' ? 'Org' : 'User');
      const before = await this.accounts.settings(account.accountId, m);
      const after = await this.accounts.setSettings(m, account.accountId, settings);
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

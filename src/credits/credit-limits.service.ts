import { Inject, Injectable } from '@nestjs/common';

import { AccountsService } from '../accounts/accounts.service.js';
import { AuditService } from '../audit/audit.service.js';
import type { AuditAction } from '../audit/audit-actions.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import { AccountLocksRepository } from './account-locks.repository.js';
import { CreditAccountsRepository, type CreditSettings } from './credit-accounts.repository.js';
import type { AlertThresholdsResponseDto, CreditLimitsResponseDto } from './dto/limits.dto.js';
import type { CreditAccount } from './entities/credit-account.entity.js';

/**
 * A user's spend controls and alert thresholds (docs/money.md "Spend controls"). Settings change
 * under the user's account lock, so no movement sees half of a change.
 */
@Injectable()
export class CreditLimitsService {
  constructor(
    private readonly accounts: CreditAccountsRepository,
    @Inject(AccountsService) private readonly users: AccountsService,
    @Inject(AccountLocksRepository) private readonly locks: AccountLocksRepository,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  async get(userId: string): Promise<CreditLimitsResponseDto> {
    if (!(await this.users.exists(this.tx.statementManager, userId))) throw new NotFoundError('User');
    return this.limitsView(userId, await this.accounts.find(userId, this.tx.statementManager));
  }

  async put(
    userId: string,
    body: { overdraftLimit?: number; maxCreditsPerHour?: number | null },
  ): Promise<CreditLimitsResponseDto> {
    const settings: CreditSettings = {};
    if (body.overdraftLimit !== undefined) settings.overdraftLimit = body.overdraftLimit;
    if (body.maxCreditsPerHour !== undefined) settings.maxCreditsPerHour = body.maxCreditsPerHour;
    return this.limitsView(userId, await this.update(userId, settings, 'credits.limits.set'));
  }

  async putAlerts(userId: string, thresholds: number[]): Promise<AlertThresholdsResponseDto> {
    const unique = [...new Set(thresholds)].sort((a, b) => b - a);
    const row = await this.update(userId, { lowBalanceThresholds: unique }, 'credits.alerts.set');
    return this.alertsView(userId, row);
  }

  /** The thresholds in force for the user: their own (`user`), else LOW_BALANCE_THRESHOLDS (`default`). */
  async getAlerts(userId: string): Promise<AlertThresholdsResponseDto> {
    if (!(await this.users.exists(this.tx.statementManager, userId))) throw new NotFoundError('User');
    return this.alertsView(userId, await this.accounts.find(userId, this.tx.statementManager));
  }

  private alertsView(userId: string, row: CreditAccount | null): AlertThresholdsResponseDto {
    const own = row?.lowBalanceThresholds ?? null;
    if (own !== null) return { userId, thresholds: own, source: 'user' };
    const defaults = [...this.config.credits.lowBalanceThresholds].sort((a, b) => b - a);
    return { userId, thresholds: defaults, source: 'default' };
  }

  private update(userId: string, settings: CreditSettings, action: AuditAction): Promise<CreditAccount> {
    return this.tx.run(async (m) => {
      if (!(await this.locks.lock(m, userId))) throw new NotFoundError('User');
      const before = await this.accounts.find(userId, m);
      const after = await this.accounts.upsertSettings(m, userId, settings);
      await this.audit.record(m, {
        action,
        targetId: userId,
        before: settingsView(before),
        after: settingsView(after),
      });
      return after;
    });
  }

  private limitsView(userId: string, row: CreditAccount | null): CreditLimitsResponseDto {
    const own = row?.maxCreditsPerHour ?? null;
    return {
      userId,
      overdraftLimit: row?.overdraftLimit ?? 0,
      maxCreditsPerHour: own,
      effectiveMaxCreditsPerHour: own ?? this.config.credits.spendRatePerHour,
      debt: row?.debt ?? 0,
    };
  }
}

/** What the audit log keeps of a user's settings (absent row: the defaults, shown as null). */
function settingsView(row: CreditAccount | null) {
  return {
    overdraftLimit: row?.overdraftLimit ?? 0,
    maxCreditsPerHour: row?.maxCreditsPerHour ?? null,
    alertThresholds: row?.lowBalanceThresholds ?? null,
  };
}

import { Inject, Injectable } from '@nestjs/common';

import { NotFoundError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import { AccountsService } from '../users/accounts.service.js';
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
  ) {}

  async get(userId: string): Promise<CreditLimitsResponseDto> {
    if (!(await this.users.exists(this.tx.statementManager, userId))) throw new NotFoundError('User');
    return this.limitsView(userId, await this.accounts.find(userId));
  }

  async put(
    userId: string,
    body: { overdraftLimit?: number; maxCreditsPerHour?: number | null },
  ): Promise<CreditLimitsResponseDto> {
    const settings: CreditSettings = {};
    if (body.overdraftLimit !== undefined) settings.overdraftLimit = body.overdraftLimit;
    if (body.maxCreditsPerHour !== undefined) settings.maxCreditsPerHour = body.maxCreditsPerHour;
    return this.limitsView(userId, await this.update(userId, settings));
  }

  async putAlerts(userId: string, thresholds: number[]): Promise<AlertThresholdsResponseDto> {
    const unique = [...new Set(thresholds)].sort((a, b) => b - a);
    const row = await this.update(userId, { lowBalanceThresholds: unique });
    return { userId, thresholds: row.lowBalanceThresholds ?? [] };
  }

  private update(userId: string, settings: CreditSettings): Promise<CreditAccount> {
    return this.tx.run(async (m) => {
      if (!(await this.locks.lock(m, userId))) throw new NotFoundError('User');
      return this.accounts.upsertSettings(m, userId, settings);
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

import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';

import { Changes } from '../../changes/changes.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { minorUnits } from '../../common/money/currencies.js';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { ConfigValidationError } from '../../config/env-reader.js';
import type { FxRatesListResponseDto, FxRatesQueryDto, FxRatesResponseDto } from '../dto/fx-rates.dto.js';
import { checkDayRates, dayProblem, type FxDayRates } from './fx-rates.js';
import { FxRatesRepository } from './fx-rates.repository.js';

const DAY_MS = 86_400_000;
/** The longest range one listing covers. */
const MAX_LIST_DAYS = 366;

/**
 * The FX rates by UTC day into REPORTING_CURRENCY (docs/finance.md "The reporting currency"): stored
 * or replaced a day at a time by an admin (audited) or by the FX_RATES_URL job, and listed. The
 * reports read them when they convert; nothing converted is stored.
 */
@Injectable()
export class FxRatesService implements OnModuleInit {
  constructor(
    private readonly repo: FxRatesRepository,
    @Inject(Changes) private readonly changes: Changes,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A reporting currency the money rule does not list (a fund, a metal) stops start-up. */
  onModuleInit(): void {
    if (minorUnits(this.base) === undefined) {
      throw new ConfigValidationError([`REPORTING_CURRENCY must be a currency money is kept in (got "${this.base}")`]);
    }
  }

  get base(): string {
    return this.config.finance.reportingCurrency;
  }

  /** PUT /api/finance/fx-rates: the day's rates checked whole, then stored in place of the day's (audit `finance.fx_rates`). */
  put(body: { date?: unknown; rates?: unknown }): Promise<FxRatesResponseDto> {
    const checked = checkDayRates(body, this.base);
    if ('problems' in checked) throw new DomainError('VALIDATION', checked.problems.join('; '));
    return this.store(checked.day, true);
  }

  /** Stores `day` in place of that day's rates, in one transaction; `audited`: an admin's change. */
  store(day: FxDayRates, audited: boolean): Promise<FxRatesResponseDto> {
    return this.changes.tx.run(async (m) => {
      const before = await this.repo.dayRates(m, this.base, day.date);
      await this.repo.replaceDay(m, this.base, day);
      const after = await this.repo.dayRates(m, this.base, day.date);
      const view = { base: this.base, date: day.date, rates: after };
      if (audited) {
        await this.changes.audit.record(m, {
          action: 'finance.fx_rates',
          targetId: day.date,
          before: Object.keys(before).length > 0 ? { base: this.base, date: day.date, rates: before } : null,
          after: view,
        });
      }
      return view;
    });
  }

  async list(query: FxRatesQueryDto): Promise<FxRatesListResponseDto> {
    for (const [name, value] of [
      ['from', query.from],
      ['to', query.to],
    ] as const) {
      if (dayProblem(value) !== null) throw new DomainError('VALIDATION', `${name} must be a UTC day (YYYY-MM-DD)`);
    }
    const span = Date.parse(query.to) - Date.parse(query.from);
    if (span <= 0) throw new DomainError('VALIDATION', 'to must be after from');
    if (span > MAX_LIST_DAYS * DAY_MS) {
      throw new DomainError('VALIDATION', `from and to may be at most ${MAX_LIST_DAYS} days apart`);
    }
    const days = await this.changes.tx.run((m) => this.repo.list(m, this.base, query.from, query.to));
    return { base: this.base, from: query.from, to: query.to, days };
  }
}

import { DomainError } from '../common/errors/domain-error.js';
import { minorUnits } from '../common/money/currencies.js';
import type { HeavyReadConnection } from '../database/heavy-reads.js';
import type { CreditFinanceRepository, MoneyOf } from './feed/credit-finance.repository.js';

/**
 * Which money a roll-forward or a liability reads (docs/finance.md "The reporting currency"): one
 * currency's (`currency=`) as it is, or every currency's converted into the reporting currency
 * (`reportingCurrency=`, which must be REPORTING_CURRENCY: the currency the rates are stored in; also
 * when neither is named).
 */
export function moneyOf(query: { currency?: string; reportingCurrency?: string }, reporting: string): MoneyOf {
  if (query.currency !== undefined && query.reportingCurrency !== undefined) {
    throw new DomainError('VALIDATION', 'name currency or reportingCurrency, not both');
  }
  // reportingCurrency, or neither: the one figure finance reads, every currency converted (a service
  // that sells only in the reporting currency needs no rate for it).
  if (query.currency === undefined) {
    if (query.reportingCurrency !== undefined && query.reportingCurrency !== reporting) {
      throw new DomainError(
        'VALIDATION',
        `reportingCurrency must be ${reporting} (REPORTING_CURRENCY: the currency the FX rates are in)`,
      );
    }
    return { currency: reporting, reporting: minorUnits(reporting)! };
  }
  if (minorUnits(query.currency) === undefined) {
    throw new DomainError('VALIDATION', 'currency must be an ISO 4217 code in lowercase (usd, eur, jpy, …)');
  }
  return { currency: query.currency, reporting: null };
}

/** The answer's currency fields: `reportingCurrency` too when the figures were converted into it. */
export function currencyFields(money: MoneyOf): { currency: string; reportingCurrency?: string } {
  return money.reporting == null
    ? { currency: money.currency }
    : { currency: money.currency, reportingCurrency: money.currency };
}

/**
 * For a converted read, that every day before `to` on which a valued line of another currency moved
 * money has that currency's rate (else 422 FX_RATE_MISSING naming the days, and each day's missing
 * pairs `{day, from, to}`: the rates a PUT of that day must bring), and when the rates last changed;
 * '' for a read of one currency.
 */
export async function ratesFor(
  reads: CreditFinanceRepository,
  db: HeavyReadConnection,
  money: MoneyOf,
  to: Date,
): Promise<string> {
  if (money.reporting == null) return '';
  const { days: lacking, ratesChanged } = await reads.missingDays(db, money.currency, to);
  if (lacking.length > 0) {
    const days = lacking.map((d) => d.day);
    const missing = lacking.flatMap((d) => d.currencies.map((from) => ({ day: d.day, from, to: money.currency })));
    const shown = days.length > 10 ? `${days.slice(0, 10).join(', ')}, …` : days.join(', ');
    throw new DomainError('FX_RATE_MISSING', `No FX rate into ${money.currency} is stored for ${shown}`, {
      days,
      missing,
    });
  }
  return ratesChanged;
}

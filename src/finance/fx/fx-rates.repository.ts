import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { FxDayRates } from './fx-rates.js';

/** The FX rates by day (finance_fx_rates): the only code that writes them. */
@Injectable()
export class FxRatesRepository {
  /** The rates stored for `day` into `base` (currency → rate); {} when none. */
  async dayRates(m: EntityManager, base: string, day: string): Promise<Record<string, string>> {
    const rows: { currency: string; rate: string }[] = await m.query(
      `SELECT currency, rate::text AS rate FROM finance_fx_rates WHERE base = $1 AND day = $2 ORDER BY currency`,
      [base, day],
    );
    return Object.fromEntries(rows.map((r) => [r.currency, r.rate]));
  }

  /**
   * Replaces the rates of `day.date` into `base` with `day.rates`, whole: the day's lock first, so two
   * replacements of one day run one after the other and the later one's rates stand.
   */
  async replaceDay(m: EntityManager, base: string, day: FxDayRates): Promise<void> {
    await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('finance_fx_rates ' || $1 || ' ' || $2, 0))`, [
      base,
      day.date,
    ]);
    await m.query(`DELETE FROM finance_fx_rates WHERE base = $1 AND day = $2`, [base, day.date]);
    const currencies = Object.keys(day.rates);
    await m.query(
      `INSERT INTO finance_fx_rates (base, currency, day, rate)
       SELECT $1, c.currency, $2::date, c.rate::numeric FROM unnest($3::varchar[], $4::text[]) AS c(currency, rate)`,
      [base, day.date, currencies, currencies.map((c) => day.rates[c])],
    );
  }

  /** Every day from `from` to `to` (exclusive) with rates into `base`, in day order. */
  async list(m: EntityManager, base: string, from: string, to: string): Promise<FxDayRates[]> {
    const rows: { day: string; currency: string; rate: string }[] = await m.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, currency, rate::text AS rate
         FROM finance_fx_rates WHERE base = $1 AND day >= $2 AND day < $3 ORDER BY day, currency`,
      [base, from, to],
    );
    const days = new Map<string, Record<string, string>>();
    for (const r of rows) {
      const rates = days.get(r.day) ?? {};
      rates[r.currency] = r.rate;
      days.set(r.day, rates);
    }
    return [...days].map(([date, rates]) => ({ date, rates }));
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * FX rates by UTC day (docs/finance.md "The reporting currency"): how many units of `base` (the
 * REPORTING_CURRENCY they were stored for) one unit of `currency` is worth on `day`, at most 10
 * significant digits. A day's rates are replaced whole; the reports convert each ledger line at
 * its own day's rate when they are read, so a rate stored later for a past day applies from then on.
 */
export class FinanceFxRates1732006300000 implements MigrationInterface {
  name = 'FinanceFxRates1732006300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE finance_fx_rates (
        base varchar(3) NOT NULL,
        currency varchar(3) NOT NULL,
        day date NOT NULL,
        rate numeric NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT finance_fx_rates_pkey PRIMARY KEY (base, currency, day),
        CONSTRAINT finance_fx_rates_rate_check CHECK (rate > 0),
        CONSTRAINT finance_fx_rates_base_check CHECK (base <> currency)
      )`);
    await q.query(`CREATE INDEX finance_fx_rates_day_idx ON finance_fx_rates (base, day)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE finance_fx_rates`);
  }
}

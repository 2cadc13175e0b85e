import type { MigrationInterface, QueryRunner } from 'typeorm';

const codes = (list: string) =>
  list
    .split(' ')
    .map((c) => `'${c}'`)
    .join(', ');
const ZERO_PLACES = codes('bif clp djf gnf isk jpy kmf krw pyg rwf ugx uyi vnd vuv xaf xof xpf');
const THREE_PLACES = codes('bhd iqd jod kwd lyd omr tnd');
const FOUR_PLACES = codes('clf uyw');

/**
 * Prices in several currencies (docs/selling.md "Prices in several currencies"): a package's and a
 * plan's prices, one per currency, in the order given (the first is the one the old single `price`
 * columns keep; a package's in minor units, so no money is a float in an array), and an account's billing currency (null until its first paid purchase, its first
 * priced subscription or an admin sets it).
 */
export class MultiCurrencyPrices1732006200000 implements MigrationInterface {
  name = 'MultiCurrencyPrices1732006200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE packages
        ADD COLUMN price_currencies varchar(3)[],
        ADD COLUMN price_minors bigint[]`);
    // A package's amount (2 places) in its currency's minor units (ISO 4217's places, as of this migration).
    await q.query(`
      UPDATE packages SET price_currencies = ARRAY[currency], price_minors = ARRAY[(amount * CASE
        WHEN currency IN (${ZERO_PLACES}) THEN 1
        WHEN currency IN (${THREE_PLACES}) THEN 1000
        WHEN currency IN (${FOUR_PLACES}) THEN 10000 ELSE 100 END)::bigint]`);
    await q.query(`
      ALTER TABLE packages
        ALTER COLUMN price_currencies SET NOT NULL,
        ALTER COLUMN price_minors SET NOT NULL,
        ADD CONSTRAINT packages_prices_check CHECK (cardinality(price_currencies) BETWEEN 1 AND 20
          AND cardinality(price_minors) = cardinality(price_currencies) AND price_currencies[1] = currency)`);
    await q.query(`
      ALTER TABLE plans
        ADD COLUMN price_currencies varchar(3)[] NOT NULL DEFAULT '{}',
        ADD COLUMN price_minors bigint[] NOT NULL DEFAULT '{}'`);
    await q.query(`
      UPDATE plans SET price_currencies = ARRAY[price_currency], price_minors = ARRAY[price_minor]
       WHERE price_currency IS NOT NULL`);
    await q.query(`
      ALTER TABLE plans ADD CONSTRAINT plans_prices_check CHECK (cardinality(price_currencies) <= 20
        AND cardinality(price_minors) = cardinality(price_currencies)
        AND (price_currency IS NULL) = (cardinality(price_currencies) = 0)
        AND (price_currency IS NULL OR (price_currencies[1] = price_currency AND price_minors[1] = price_minor)))`);
    await q.query(`
      ALTER TABLE accounts ADD COLUMN billing_currency varchar(3),
        ADD CONSTRAINT accounts_billing_currency_check CHECK (billing_currency ~ '^[a-z]{3}$')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE accounts DROP COLUMN billing_currency`);
    await q.query(
      `ALTER TABLE plans DROP CONSTRAINT plans_prices_check, DROP COLUMN price_currencies, DROP COLUMN price_minors`,
    );
    await q.query(
      `ALTER TABLE packages DROP CONSTRAINT packages_prices_check, DROP COLUMN price_currencies, DROP COLUMN price_minors`,
    );
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every money column of a purchase, its refunds and a package, stored with 2 places until now. */
const MONEY_COLUMNS: [table: string, columns: string[]][] = [
  ['purchases', ['amount', 'refunded_amount', 'provider_refunded_amount']],
  ['purchase_refunds', ['amount']],
  ['packages', ['amount']],
];

/**
 * Money in its currency's minor places (docs/finance.md "Money in a body"): a purchase's amount,
 * its refunded amounts, a refund's amount and a package's first price held 2 places (numeric(12,2)),
 * so a kwd amount of 3 places ("1.005") was refused. They hold 4 now, the most any ISO 4217 currency
 * has, with the same 10 whole digits: every value stored keeps its value, and the CHECKs (amount > 0,
 * amount >= 0) and defaults stay as they were. No view or SQL function reads these columns.
 */
export class MoneyInMinorPlaces1732006600000 implements MigrationInterface {
  name = 'MoneyInMinorPlaces1732006600000';

  async up(q: QueryRunner): Promise<void> {
    for (const [table, columns] of MONEY_COLUMNS) {
      await q.query(`ALTER TABLE ${table} ${columns.map((c) => `ALTER COLUMN ${c} TYPE numeric(14,4)`).join(', ')}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to 2 places only when nothing would be rounded: money is never cut silently.
    for (const [table, columns] of MONEY_COLUMNS) {
      const cut = columns.map((c) => `${c} <> round(${c}, 2)`).join(' OR ');
      const [{ n }] = (await q.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${cut}`)) as { n: number }[];
      if (n > 0) throw new Error(`${n} rows of ${table} have money of more than 2 places: not reverting`);
      await q.query(`ALTER TABLE ${table} ${columns.map((c) => `ALTER COLUMN ${c} TYPE numeric(12,2)`).join(', ')}`);
    }
  }
}

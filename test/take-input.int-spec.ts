import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';
import { Fixtures } from './support/fixtures.js';

/**
 * The take refuses events it cannot read (docs/money.md "The take"): an amount missing or below 0, a
 * take or a mode missing or unknown, arrays of other lengths. Nothing is moved: the statement raises.
 */
describe('the take’s input', () => {
  let t: TestApp;
  let f: Fixtures;
  let account: string;

  beforeAll(async () => {
    t = await startTestApp({ JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { prefix: 'takein' });
    const u = await f.newUser({ credits: 50 });
    account = (await t.db.query(`SELECT account_id FROM accounts WHERE user_id = $1`, [u.id])).rows[0].account_id;
  });
  afterAll(() => t.close());

  /** credits_take_events() of two events on the account, in a transaction rolled back: their statuses. */
  async function take(amounts: (number | null)[], takes: (string | null)[] | null, modes: (string | null)[] | null) {
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        `SELECT out_status AS status FROM credits_take_events('test', NULL, NULL, NULL, $1::bigint[], $2::int[], $3::uuid[],
                p_takes => $4::varchar[], p_modes => $5::varchar[]) ORDER BY out_ord`,
        [amounts.map(() => account), amounts, amounts.map(() => null), takes, modes],
      );
      return rows.map((r) => r.status as string);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  it('takes events it can read', async () => {
    expect(await take([1, 0], ['debit', 'hold'], ['strict', 'up_to'])).toEqual(['ok', 'ok']);
    expect(await take([2, 3], null, null)).toEqual(['ok', 'ok']);
  });

  it.each([
    ['a missing amount', [1, null], null, null],
    ['an amount below 0', [1, -1], null, null],
    ['a missing take', [1, 1], ['debit', null], null],
    ['an unknown take', [1, 1], ['debit', 'refund'], null],
    ['a missing mode', [1, 1], null, [null, 'strict']],
    ['an unknown mode', [1, 1], null, ['strict', 'lenient']],
    ['takes of another length', [1, 1], ['debit'], null],
    ['modes of another length', [1, 1], null, ['strict', 'strict', 'strict']],
  ])('refuses %s', async (_, amounts, takes, modes) => {
    await expect(take(amounts, takes, modes)).rejects.toThrow(/every event needs a non-negative amount/);
  });
});

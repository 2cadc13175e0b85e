import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TakeEventsBeforeVolumeSteps1732001850500 } from '../migrations/1732001850500-take-events-before-volume-steps.js';
import { VolumeStepsWithBudgets1732001851500 } from '../migrations/1732001851500-volume-steps-with-budgets.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * The budgets' migrations landed after the volume steps' functions (1732001851000) though stamped
 * before them. 1732001850500 and 1732001851500 mend what a migration from scratch, in stamp order,
 * meets there, and do nothing on a database that ran them after later migrations.
 */
describe('migrations merged out of stamp order', () => {
  let own: MigrationDatabase;
  const shims = [TakeEventsBeforeVolumeSteps1732001850500, VolumeStepsWithBudgets1732001851500];

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_merge_order');
  });
  afterAll(() => own?.close());

  /** Every function of the schema with its whole definition. */
  const functions = async () =>
    (
      await own.db.query<{ def: string }>(
        `SELECT p.oid::regprocedure::text || E'\\n' || pg_get_functiondef(p.oid) AS def
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = 'public' AND p.prokind = 'f' ORDER BY 1`,
      )
    ).rows.map((r) => r.def);
  const takeParameters = async () =>
    (
      await own.db.query<{ names: string[] }>(
        `SELECT proargnames AS names FROM pg_proc WHERE proname = 'credits_take_events'`,
      )
    ).rows.map((r) => r.names.filter((n) => !n.startsWith('out_')));

  it('from scratch, without the first: the volume steps meet the budgets’ take and stop', async () => {
    const other = await MigrationDatabase.create('accounting_merge_order_without');
    try {
      await expect(other.migrate(MIGRATIONS.filter((m) => m !== shims[0]))).rejects.toThrow(
        /function credits_take_events\(.*\) does not exist/,
      );
    } finally {
      await other.close();
    }
  });

  it('in stamp order: one take with both, back to the budgets’ take, and up again to the same functions', async () => {
    await own.migrate();
    const after = await functions();
    const take = (await takeParameters())[0];
    expect(await takeParameters()).toHaveLength(1);
    expect(take).toEqual(expect.arrayContaining(['p_volumes', 'p_scopes']));

    // Back to just before the first: the budgets' take (scopes, no volume steps) again.
    await own.revert(MIGRATIONS.length - MIGRATIONS.indexOf(shims[0]));
    expect((await takeParameters())[0]).toEqual(expect.arrayContaining(['p_scopes']));
    expect((await takeParameters())[0]).not.toContain('p_volumes');

    await own.migrate();
    expect(await functions()).toEqual(after);
  });

  it('after later migrations (a database that had them): nothing, up or down', async () => {
    const before = await functions();
    await own.db.query(`DELETE FROM migrations WHERE name = ANY ($1)`, [shims.map((m) => m.name)]);
    await own.migrate();
    const { rows } = await own.db.query<{ name: string }>(`SELECT name FROM migrations ORDER BY id DESC LIMIT 2`);
    expect(rows.map((r) => r.name).sort()).toEqual(shims.map((m) => m.name).sort());
    expect(await functions()).toEqual(before);
    await own.revert(2);
    expect(await functions()).toEqual(before);
  });
});

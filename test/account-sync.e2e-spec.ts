import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AccountsService } from '../src/accounts/accounts.service.js';
import type { AuthUser } from '../src/auth/roles.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { until } from './support/until.js';

/**
 * Accounts are refreshed from tokens, and each instance remembers what it wrote so that ordinary
 * requests make no account statement. Two instances on one database: a role one of them writes is
 * never left stale by the other's memory (issue: a demoted admin kept its role on the instance that
 * last wrote "admin").
 */
describe('account sync across two instances', () => {
  let a: TestApp;
  let b: TestApp;
  const accounts = (t: TestApp) => t.app.get(AccountsService);
  const claims = (sub: string, role: AuthUser['role']) => ({
    userId: sub,
    role,
    email: `${sub}@example.com`,
    username: sub,
  });
  const me = async (t: TestApp, sub: string, role: AuthUser['role']) => {
    const res = await t.http.get('/api/users/me').set(bearer(token({ sub, role })));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  const row = async (sub: string) =>
    (await a.db.query(`SELECT role, updated_at, xmin::text AS xmin FROM user_accounts WHERE user_id = $1`, [sub]))
      .rows[0];
  const listening = (t: TestApp) => accounts(t)['listener'].listening;

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp(), startTestApp()]);
    await until('both instances listen', () => listening(a) && listening(b));
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it.each([
    ['a demotion written by B', 'admin', 'user'],
    ['a promotion written by B', 'user', 'admin'],
  ] as const)('%s is not undone by A’s memory of the old role', async (_what, first, second) => {
    const sub = uniqueId('sync');
    await me(a, sub, first);
    expect(accounts(a).remembers(claims(sub, first))).toBe(true);
    await me(b, sub, second);
    expect((await row(sub)).role).toBe(second);
    // B's write reaches A (NOTIFY), and A forgets what it wrote …
    await until('A forgets the account', () => !accounts(a).remembers(claims(sub, first)));
    // … so A's next token with the first role is written again.
    await me(a, sub, first);
    expect((await row(sub)).role).toBe(first);
    await until('B forgets it in turn', () => !accounts(b).remembers(claims(sub, second)));
  });

  it('an unchanged token writes nothing, on either instance', async () => {
    const sub = uniqueId('sync');
    await me(a, sub, 'supervisor');
    const before = await row(sub);
    for (const t of [a, b, a, b]) await me(t, sub, 'supervisor');
    expect(await row(sub)).toEqual(before);
  });

  it('an unchanged token answers while the money lock is held; a changed one waits for it', async () => {
    const sub = uniqueId('sync');
    await me(a, sub, 'user');
    const holder = await a.db.connect();
    try {
      // What every credit movement takes first, held as a long movement would hold it.
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM user_accounts WHERE user_id = $1 FOR NO KEY UPDATE`, [sub]);
      const [{ pid }] = (await holder.query('SELECT pg_backend_pid() AS pid')).rows;
      // B has never seen the account: it runs the statement, which finds nothing to change.
      await me(b, sub, 'user');
      // The control: a change must write the row, so it waits for the lock (a database state, polled).
      const changed = me(b, sub, 'supervisor');
      let waiting = false;
      for (let i = 0; i < 1000 && !waiting; i++) {
        const blocked = await a.db.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]);
        waiting = (blocked.rowCount ?? 0) > 0;
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(waiting, 'the role change never waited for the lock').toBe(true);
      await holder.query('COMMIT');
      await changed;
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
    }
    expect((await row(sub)).role).toBe('supervisor');
  });

  it('two first requests at once create one account', async () => {
    const sub = uniqueId('sync');
    await Promise.all([me(a, sub, 'user'), me(b, sub, 'user')]);
    const { rows } = await a.db.query(`SELECT count(*)::int AS n FROM user_accounts WHERE user_id = $1`, [sub]);
    expect(rows[0].n).toBe(1);
  });

  it('an instance whose listener is lost remembers nothing until it listens again', async () => {
    const sub = uniqueId('sync');
    await me(a, sub, 'admin');
    expect(accounts(a).remembers(claims(sub, 'admin'))).toBe(true);
    await a.db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'accounting-accounts' AND datname = current_database()`,
    );
    await until('A notices its listener is gone', () => !listening(a));
    expect(accounts(a).remembers(claims(sub, 'admin'))).toBe(false);
    // A write while A cannot hear it: A checks on its next request instead of trusting memory.
    await a.db.query(`UPDATE user_accounts SET role = 'user' WHERE user_id = $1`, [sub]);
    await me(a, sub, 'admin');
    expect((await row(sub)).role).toBe('admin');
    await until('both listen again', () => listening(a) && listening(b));
  });
});

import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AccountIds } from '../src/accounts/account-ids.js';
import { Transactions } from '../src/database/transactions.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { recordSent } from './support/statements.js';

/**
 * AccountIds (src/accounts/account-ids.ts): an owner becomes its account id once; an instance
 * remembers only ids that committed, so an account created in a transaction that rolled back is never
 * handed to the engine afterwards, and an owner without an account is asked again.
 */
describe('account ids resolved once', () => {
  let t: TestApp;
  const ids = () => t.app.get(AccountIds);
  const tx = () => t.app.get(Transactions);
  const accountIdOf = async (userId: string): Promise<string | null> =>
    (await t.db.query(`SELECT account_id::text AS id FROM accounts WHERE user_id = $1`, [userId])).rows[0]?.id ?? null;
  /** The statements among `sent` that read `accounts` (another spec's work may send others meanwhile). */
  // A resolution: accounts read by owner (user_id or org_id). A statement may still read a known
  // account's own columns by its id (the balance's billing currency) in the statement it sends anyway.
  const accountReads = (sent: { text: string }[]) =>
    sent.filter((s) => /\bFROM accounts\b[^;]*?\bWHERE\b[^;]*?\b(user_id|org_id)\b/.test(s.text));
  const insertUser = (manager: { query: (sql: string, params: unknown[]) => Promise<unknown> }, userId: string) =>
    manager.query(`INSERT INTO user_accounts (user_id, role) VALUES ($1, 'user')`, [userId]);

  beforeAll(async () => {
    t = await startTestApp({ JOBS_ENABLED: 'false' });
  });
  afterAll(() => t?.close());

  it('reads an account on the pool once, then answers from memory', async () => {
    const userId = uniqueId('ids');
    await t.db.query(`INSERT INTO user_accounts (user_id, role) VALUES ($1, 'user')`, [userId]);
    expect(ids().remembers({ kind: 'user', ownerId: userId })).toBe(false);
    const first = await recordSent(() => ids().of(tx().statementManager, { kind: 'user', ownerId: userId }));
    expect(first.result).toBe(await accountIdOf(userId));
    expect(accountReads(first.sent)).toHaveLength(1);
    const again = await recordSent(() => ids().of(tx().statementManager, { kind: 'user', ownerId: userId }));
    expect(again.result).toBe(first.result);
    expect(accountReads(again.sent)).toEqual([]);
  });

  it('keeps an org and a user of the same id apart, and never remembers an owner without an account', async () => {
    const id = uniqueId('ids-same');
    await t.db.query(`INSERT INTO user_accounts (user_id, role) VALUES ($1, 'user')`, [id]);
    const [user, org] = await ids().ofMany(tx().statementManager, [
      { kind: 'user', ownerId: id },
      { kind: 'org', ownerId: id },
    ]);
    expect(user).toBe(await accountIdOf(id));
    expect(org).toBeNull();
    expect(ids().remembers({ kind: 'org', ownerId: id })).toBe(false);
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [id]);
    const opened = await ids().of(tx().statementManager, { kind: 'org', ownerId: id });
    expect(opened).not.toBeNull();
    expect(opened).not.toBe(user);
  });

  it('an account created in a transaction that rolls back is used in it and never remembered', async () => {
    const userId = uniqueId('ids-rolled');
    let inside: string | null = null;
    await expect(
      tx().run(async (manager) => {
        await insertUser(manager, userId);
        inside = await ids().of(manager, { kind: 'user', ownerId: userId });
        // Within the transaction, asked again: the same id, without a statement.
        const again = await recordSent(() => ids().of(manager, { kind: 'user', ownerId: userId }));
        expect(again.result).toBe(inside);
        expect(accountReads(again.sent)).toEqual([]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(inside).not.toBeNull();
    expect(ids().remembers({ kind: 'user', ownerId: userId })).toBe(false);
    expect(await ids().of(tx().statementManager, { kind: 'user', ownerId: userId })).toBeNull();
  });

  it('an account read in a transaction is remembered once it commits, not before', async () => {
    const userId = uniqueId('ids-committed');
    const id = await tx().run(async (manager) => {
      await insertUser(manager, userId);
      const read = await ids().of(manager, { kind: 'user', ownerId: userId });
      expect(ids().remembers({ kind: 'user', ownerId: userId })).toBe(false);
      return read;
    });
    expect(id).toBe(await accountIdOf(userId));
    expect(ids().remembers({ kind: 'user', ownerId: userId })).toBe(true);
  });

  it('a read in a transaction it does not see end is never remembered', async () => {
    const userId = uniqueId('ids-other');
    await t.app.get(DataSource).transaction(async (manager) => {
      await insertUser(manager, userId);
      expect(await ids().of(manager, { kind: 'user', ownerId: userId })).not.toBeNull();
    });
    expect(ids().remembers({ kind: 'user', ownerId: userId })).toBe(false);
  });

  it('the balance route makes no statement for the account once it is known', async () => {
    const userId = uniqueId('ids-route');
    const auth = bearer(token({ sub: userId }));
    await t.http.get('/api/users/me').set(auth).expect(200);
    await t.http.get('/api/credits/balance').set(auth).expect(200);
    expect(ids().remembers({ kind: 'user', ownerId: userId })).toBe(true);
    const { sent } = await recordSent(() => t.http.get('/api/credits/balance').set(auth).expect(200));
    expect(accountReads(sent)).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, type Principal, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * What a correction may not do (docs/usage.md "Corrections"): a supervisor lowering a record of their
 * own account or of an organisation they belong to (403 SELF_GRANT_FORBIDDEN, nothing written; admins
 * may), and a record taking more than CORRECTIONS_PER_RECORD corrections (409 TOO_MANY_CORRECTIONS,
 * nothing written); a record's view lists its last 10 corrections and how many it has.
 */
describe('corrections: separation of duties and the cap per record', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = principal('admin', 'climit-admin');

  beforeAll(async () => {
    t = await startTestApp({ CORRECTIONS_PER_RECORD: '12' });
    f = new Fixtures(t, { users, prefix: 'climit', granter: admin.jwt });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t?.close();
  });

  let n = 0;
  const correct = (by: Principal, recordId: string, credits: number) =>
    t.http
      .post(`/api/usage/records/${recordId}/corrections`)
      .set(by.auth)
      .send({ correctionId: `l-${++n}`, reason: 'test', credits });

  /** A record of 10 credits metered by the admin for the user (or the org, paid by it). */
  async function record(userId: string, orgId?: string): Promise<string> {
    const res = await t.http
      .post('/api/usage/record')
      .set(admin.auth)
      .send({ userId, ...(orgId ? { orgId } : {}), service: 'chat', operation: 'completion', credits: 10 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  }

  async function corrections(recordId: string): Promise<number> {
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM usage_corrections WHERE record_id = $1`, [
      recordId,
    ]);
    return rows[0].n as number;
  }

  const refused = (res: { status: number; body: Record<string, unknown> }, message: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body).toEqual({ statusCode: 403, error: 'Forbidden', code: 'SELF_GRANT_FORBIDDEN', message });
  };

  it('a supervisor may not lower a record of their own account; up they may, and admins may either', async () => {
    const sup = await f.newUser({ role: 'supervisor', credits: 100 });
    const id = await record(sup.id);
    refused(await correct(sup, id, 4), 'Supervisors may not correct a record of their own account downward');
    expect(await corrections(id)).toBe(0);
    expect((await correct(sup, id, 12)).status).toBe(201);
    const otherSup = await f.newUser({ role: 'supervisor' });
    expect((await correct(otherSup, id, 11)).body).toMatchObject({ previousCredits: 12, credits: 11, delta: -1 });
    const own = await f.newUser({ role: 'admin', credits: 100 });
    const adminsRecord = await record(own.id);
    expect((await correct(own, adminsRecord, 3)).body).toMatchObject({ delta: -7 });
  });

  it('a supervisor who is a member of an org may not lower its records; once removed, they may', async () => {
    const owner: FixtureUser = await f.newUser();
    const orgId = uniqueId('climit').toLowerCase();
    await t.http.post('/api/orgs').set(admin.auth).send({ orgId, name: 'Team', ownerUserId: owner.id }).expect(201);
    await t.http.post('/api/credits/allocate').set(admin.auth).send({ orgId, credits: 100 }).expect(201);
    const sup = await f.newUser({ role: 'supervisor' });
    await t.http.put(`/api/orgs/${orgId}/members/${sup.id}`).set(owner.auth).send({ role: 'member' }).expect(200);
    const id = await record(owner.id, orgId);
    refused(
      await correct(sup, id, 2),
      'Supervisors may not correct a record of an organisation they are a member of downward',
    );
    expect(await corrections(id)).toBe(0);
    await t.http.delete(`/api/orgs/${orgId}/members/${sup.id}`).set(owner.auth).expect(200);
    expect((await correct(sup, id, 2)).body).toMatchObject({ delta: -8 });
  });

  it('a record takes CORRECTIONS_PER_RECORD corrections, then 409 with nothing written; its view lists the last 10', async () => {
    const u = await f.newUser({ credits: 1000 });
    const id = await record(u.id);
    const made: string[] = [];
    for (let i = 1; i <= 12; i++) {
      const res = await correct(admin, id, 10 + i);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      made.push(res.body.id as string);
    }
    const over = await correct(admin, id, 1);
    expect(over.status).toBe(409);
    expect(over.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      code: 'TOO_MANY_CORRECTIONS',
      message: 'This record has taken its 12 corrections (CORRECTIONS_PER_RECORD)',
    });
    expect(await corrections(id)).toBe(12);
    // A correction id used before still answers its first answer.
    const again = await t.http
      .post(`/api/usage/records/${id}/corrections`)
      .set(admin.auth)
      .send({ correctionId: `l-${n - 1}`, reason: 'test', credits: 22 });
    expect(again.status).toBe(200);
    const list = await t.http.get('/api/usage/records').set(u.auth).expect(200);
    const view = (
      list.body.items as { id: string; netCredits: number; correctionCount: number; corrections: { id: string }[] }[]
    ).find((r) => r.id === id)!;
    expect(view.netCredits).toBe(22);
    expect(view.correctionCount).toBe(12);
    expect(view.corrections.map((c) => c.id)).toEqual(made.slice(2));
    const balance = await t.http.get('/api/credits/balance').set(u.auth).expect(200);
    expect(balance.body.totalCredits).toBe(1000 - 22);
  });

  it('a correction entry of the ledger carries the record’s and the correction’s ids', async () => {
    const u = await f.newUser({ credits: 100 });
    const id = await record(u.id);
    const down = await correct(admin, id, 4);
    const up = await correct(admin, id, 9);
    const ledger = await t.http.get('/api/credits/ledger').query({ kind: 'correction' }).set(u.auth).expect(200);
    const entries = (ledger.body.items as { amount: number; usageRecordId: string; usageCorrectionId: string }[]).map(
      (e) => ({ amount: e.amount, usageRecordId: e.usageRecordId, usageCorrectionId: e.usageCorrectionId }),
    );
    expect(entries).toEqual([
      { amount: -5, usageRecordId: id, usageCorrectionId: up.body.id },
      { amount: 6, usageRecordId: id, usageCorrectionId: down.body.id },
    ]);
  });
});

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmailWorker } from '../src/notifications/email.worker.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { mentions, seedWords } from './support/erasure.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { duckQuery } from './support/parquet.js';
import { waitForRuns } from './support/parquet-checks.js';

/**
 * Erasure of a person (docs/erasure.md), over HTTP on a database of its own: the scan of every text
 * and JSON column of every table after the erasure is this file's alone.
 */
const adminId = uniqueId('eradmin');
const admin = bearer(token({ sub: adminId, role: 'admin' }));
const model = `erase-model-${uniqueId('m').toLowerCase()}`;

const userId = uniqueId('erased');
const email = `${userId}.Mail@Example.com`;
const username = `${userId}-name`;
const jwt = bearer(token({ sub: userId, email, username }));
const other = uniqueId('other');

/** The account's money as the ledger and the reads say it. */
async function money(t: TestApp, own: OwnDatabase) {
  const balance = await t.http.get(`/api/credits/balance?userId=${userId}`).set(admin).expect(200);
  const records = await t.http.get(`/api/usage/records?userId=${userId}`).set(admin).expect(200);
  const { rows: ledger } = await own.db.query(
    `SELECT count(*)::int AS n, sum(l.amount)::text AS credits, sum(l.value_minor)::text AS minor
       FROM credit_ledger l JOIN accounts a ON a.account_id = l.account_id WHERE a.user_id = $1`,
    [userId],
  );
  const { rows: lots } = await own.db.query(
    `SELECT id, total_credits, remaining_credits, value_remaining_minor::text FROM credit_allocations al
       JOIN accounts a ON a.account_id = al.account_id WHERE a.user_id = $1 ORDER BY id`,
    [userId],
  );
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const rollForward = await t.http
    .get('/api/finance/rollforward')
    .query({ currency: 'eur', from: day(Date.now() - 86_400_000), to: day(Date.now() + 86_400_000) })
    .set(admin)
    .expect(200);
  // A record's words (its operation and metadata) are the person's and go; what it cost stays.
  const costs = (records.body.items as Record<string, unknown>[]).map(({ operation: _, metadata: __, ...r }) => r);
  return { balance: balance.body, records: costs, ledger, lots, rollForward: rollForward.body.totals };
}

/** The notes of the other account's lots (the transfer's copied reason among them). */
async function othersLotNotes(own: OwnDatabase): Promise<string[]> {
  const { rows } = await own.db.query(
    `SELECT al.notes FROM credit_allocations al JOIN accounts a ON a.account_id = al.account_id
      WHERE a.user_id = $1 AND al.source = 'transfer' ORDER BY al.id`,
    [other],
  );
  return rows.map((r) => r.notes as string);
}

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('erasure of a person', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let exportDir: string;
  let before: Awaited<ReturnType<typeof money>>;
  let answer: { userId: string; erasedAt: string };

  beforeAll(async () => {
    own = await ownDatabase('erasure');
    exportDir = await mkdtemp(path.join(tmpdir(), 'erasure-export-'));
    t = await startTestApp({
      DATABASE_URL: own.url,
      EXPORT_DIR: exportDir,
      JOBS_ENABLED: 'false',
      SMTP_URL: '',
      EMAIL_WORKER_ENABLED: 'false',
      LOW_BALANCE_THRESHOLDS: '50',
    });
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http.post('/api/pricing').set(admin).send({ modelId: model, pricePer1kTokens: '1' }).expect(201);
    // The person: an account from a JWT carrying email and username, credits sold and spent.
    expect((await t.http.get('/api/users/me').set(jwt).expect(200)).body).toMatchObject({ email, username });
    await t.http
      .post('/api/webhooks')
      .set(admin)
      .send({ url: 'https://hooks.example.com/erasure', events: ['*'] })
      .expect(201);
    await t.http
      .post('/api/credits/allocate')
      .set(admin)
      .send({ userId, credits: 100, value: { amount: '10.00', currency: 'eur' }, notes: 'Welcome' })
      .expect(201);
    await t.http.post('/api/usage/record').set(jwt).send({ service: 'chat', operation: 'c', credits: 60 }).expect(201);
    // Their words in the free text of their own rows (keys, notes, records, reasons), and another user.
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: other })))
      .expect(200);
    await seedWords(t, admin, { auth: jwt, userId, email, username, model }, other);
    // Scope ids naming them: budgets (one whose erased id is taken already), a session's hold and extras.
    for (const [budgetId, kind, id] of [
      ['b-taken', 'project', '[erased]'],
      ['b-mail', 'project', email],
      ['b-name', 'tag', `team of ${username}`],
    ])
      await t.http
        .post('/api/budgets')
        .set(admin)
        .send({ budgetId, userId, scope: { kind, id }, limitCredits: 1000 })
        .expect(201);
    const scopes = { project: email, tag: [`team of ${username}`] };
    await t.http
      .post('/api/streaming-sessions/initialize')
      .set(jwt)
      .send({ modelId: model, sessionId: 'erase-session', estimatedTokens: 100, scopes })
      .expect(201);
    await t.http
      .put('/api/notifications/preferences')
      .set(jwt)
      .send({ email: { 'credits.expiring': false } })
      .expect(200);
    // A portal session; an answer stored for the person's own principal that echoes them (as a
    // client's own data may: the email anywhere, the username under a name key).
    await t.http.post('/api/portal/sessions').set(admin).send({ userId }).expect(201);
    await own.db.query(
      `INSERT INTO idempotency_keys (principal, key, fingerprint, method, path, status_code, response_body)
       VALUES ($1, $2, repeat('0', 64), 'POST', '/api/usage/record', 201, $3)`,
      [`user:${userId}`, `erase-${userId}`, { metadata: { customer: email, username }, credits: 1 }],
    );
    // Staff actions about them (limits), and entries and a webhook payload that name them in their JSON.
    await t.http.put(`/api/credits/limits/${userId}`).set(admin).send({ overdraftLimit: 5 }).expect(200);
    await own.db.query(
      `INSERT INTO audit_log (actor_user_id, actor_role, actor_via, action, target_type, target_id, before, after)
       VALUES ($1, 'admin', 'jwt', 'credits.limits.set', 'user', $2, $3, $4)`,
      [
        adminId,
        userId,
        { contact: { email: email.toUpperCase(), note: `write to ${email}` }, displayName: [username, 'keep'] },
        { username, userId },
      ],
    );
    await own.db.query(`SELECT emit_event('credits.granted', $1, $2)`, [
      userId,
      { userId, to: { email, username }, tags: ['x'], note: `for ${username}, see ${email}.` },
    ]);
    // The low-balance email (60 of 100 spent, threshold 50), made and kept (no SMTP_URL).
    expect(await t.app.get(EmailWorker).runDue()).toBeGreaterThan(0);
    const { rows: emails } = await own.db.query(`SELECT to_address FROM email_notifications WHERE user_id = $1`, [
      userId,
    ]);
    expect(emails.map((e) => e.to_address)).toContain(email);
    const { rows: pending } = await own.db.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
        WHERE e.user_id = $1 AND d.status = 'pending'`,
      [userId],
    );
    expect(pending[0].n).toBeGreaterThan(0);
    expect((await mentions(own.db, email, username)).length).toBeGreaterThan(3);

    before = await money(t, own);
    const res = await t.http.post(`/api/users/${userId}/erasure`).set(admin).send({ reason: 'Asked by the person' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    answer = res.body;
  }, 180_000);

  afterAll(async () => {
    await t?.close();
    await own?.drop();
    if (exportDir) await rm(exportDir, { recursive: true, force: true });
  });

  it('answers the id and when; no column holds the email or the username but the other account’s lot', async () => {
    expect(answer).toEqual({ userId, erasedAt: expect.any(String) });
    expect(Number.isNaN(Date.parse(answer.erasedAt))).toBe(false);
    // The lot the transfer opened in the other account is that account's row: its note (the
    // transfer's reason, copied) stays as it was; nothing else anywhere names the person.
    expect(await mentions(own.db, email, username)).toEqual(['public.credit_allocations.notes']);
    expect(await othersLotNotes(own)).toEqual([`from ${username} <${email}>`]);
    const { rows: budgets } = await own.db.query(
      `SELECT b.budget_id, b.scope_id, b.id::text FROM credit_budgets b JOIN accounts a ON a.account_id = b.account_id
        WHERE a.user_id = $1 ORDER BY b.budget_id`,
      [userId],
    );
    expect(budgets.map((b) => [b.budget_id, b.scope_id])).toEqual([
      ['b-mail', `[erased] #${budgets[0].id}`],
      ['b-name', 'team of [erased]'],
      ['b-taken', '[erased]'],
    ]);
    const { rows: held } = await own.db.query(
      `SELECT h.scopes, s.record_extras -> 'scopes' AS kept FROM credit_holds h
         JOIN streaming_sessions s ON s.session_id = h.session_id AND s.account_id = h.account_id
        WHERE s.user_id = $1 AND s.session_id = 'erase-session'`,
      [userId],
    );
    const erasedScopes = { project: '[erased]', tag: ['team of [erased]'] };
    expect(held).toEqual([{ scopes: erasedScopes, kept: erasedScopes }]);
    // What is kept: the rows, without the person's words.
    const { rows } = await own.db.query(
      `SELECT status, to_address, subject, text_body FROM email_notifications WHERE user_id = $1`,
      [userId],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.to_address === null && r.subject === null && r.status !== 'pending')).toBe(true);
    const { rows: entries } = await own.db.query(
      `SELECT before, after FROM audit_log WHERE target_id = $1 AND actor_via = 'jwt' AND action = 'credits.limits.set'
        AND before ? 'contact'`,
      [userId],
    );
    expect(entries[0]).toEqual({
      before: { contact: { email: '[erased]', note: 'write to [erased]' }, displayName: ['[erased]', 'keep'] },
      after: { username: '[erased]', userId },
    });
  });

  it('keeps the money: balance, records, ledger, lots and the roll-forward to the credit and the cent', async () => {
    expect(await money(t, own)).toEqual(before);
    expect(before.ledger[0].n).toBeGreaterThan(1);
    const { rows } = await own.db.query(
      `SELECT operation, metadata FROM usage_records WHERE user_id = $1 AND metadata ? 'customer'`,
      [userId],
    );
    expect(rows).toEqual([
      { operation: '[erased]', metadata: { customer: '[erased]', username: '[erased]', plan: 'x' } },
    ]);
  });

  it('the person’s JWT → 401 ACCOUNT_ERASED, and its claims are not written back', async () => {
    const res = await t.http.get('/api/users/me').set(jwt).expect(401);
    expect(res.body.code).toBe('ACCOUNT_ERASED');
    const fresh = bearer(token({ sub: userId, email: 'new@example.com', username: 'newname' }));
    expect((await t.http.get('/api/credits/balance').set(fresh).expect(401)).body.code).toBe('ACCOUNT_ERASED');
    const { rows } = await own.db.query(`SELECT email, username FROM user_accounts WHERE user_id = $1`, [userId]);
    expect(rows[0]).toEqual({ email: null, username: null });
  });

  it('metering, grants and purchases for them → 409 ACCOUNT_ERASED; staff reads answer with nulls', async () => {
    const refused = async (req: Promise<{ status: number; body: { code?: string } }>) => {
      const res = await req;
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect(res.body.code).toBe('ACCOUNT_ERASED');
    };
    await refused(
      t.http.post('/api/usage/record').set(admin).send({ userId, service: 'chat', operation: 'c', credits: 1 }),
    );
    await refused(
      t.http
        .post('/api/streaming-sessions/initialize')
        .set(admin)
        .send({ userId, modelId: model, estimatedTokens: 100 }),
    );
    await refused(t.http.post('/api/credits/allocate').set(admin).send({ userId, credits: 5 }));
    await refused(
      t.http
        .post('/api/purchases')
        .set(admin)
        .send({ userId, credits: 10, amount: '1.00', currency: 'eur', provider: 'stripe' }),
    );
    const batch = await t.http
      .post('/api/usage/records/batch')
      .set(admin)
      .send({ events: [{ eventId: 'erased-1', userId, service: 'chat', operation: 'c', credits: 1 }] });
    expect(batch.status, JSON.stringify(batch.body)).toBeLessThan(300);
    expect(batch.body.results[0]).toMatchObject({
      status: 'invalid',
      error: expect.stringMatching(/^ACCOUNT_ERASED: /),
    });

    const overview = await t.http.get(`/api/users/${userId}`).set(admin).expect(200);
    expect(overview.body).toMatchObject({
      userId,
      email: null,
      username: null,
      // 44 left, less the 2 the open session holds.
      totalCredits: 42,
      erasedAt: answer.erasedAt,
    });
    expect(await mentions(own.db, email, username)).toEqual(['public.credit_allocations.notes']);
  });

  it('again → 200 with the same answer; one user.erase entry naming only the id', async () => {
    const again = await t.http.post(`/api/users/${userId}/erasure`).set(admin).send({ reason: 'Twice' }).expect(200);
    expect(again.body).toEqual(answer);
    const audit = await t.http.get(`/api/audit?action=user.erase`).set(admin).expect(200);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      action: 'user.erase',
      target: { type: 'user', id: userId },
      before: null,
    });
    expect(JSON.stringify(audit.body.items[0])).not.toContain(email);
    expect(JSON.stringify(audit.body.items[0]).toLowerCase()).not.toContain(email.toLowerCase());
    expect(JSON.stringify(audit.body.items[0])).not.toContain(username);
  });

  it('unknown user → 404; no reason or a long one → 400; a supervisor → 403', async () => {
    await t.http.post('/api/users/nobody-here/erasure').set(admin).send({ reason: 'x' }).expect(404);
    await t.http.post(`/api/users/${userId}/erasure`).set(admin).send({}).expect(400);
    await t.http
      .post(`/api/users/${userId}/erasure`)
      .set(admin)
      .send({ reason: 'x'.repeat(501) })
      .expect(400);
    const supervisor = bearer(token({ sub: uniqueId('sup'), role: 'supervisor' }));
    await t.http.post(`/api/users/${userId}/erasure`).set(supervisor).send({ reason: 'x' }).expect(403);
  });

  it('the audit log stays append-only: only audit_log_erase() rewrites it', async () => {
    await expect(own.db.query(`UPDATE audit_log SET before = NULL WHERE target_id = $1`, [userId])).rejects.toThrow(
      /append-only/,
    );
    const client = await own.db.connect();
    try {
      await client.query('BEGIN');
      await client.query(`CREATE ROLE erasure_outsider`);
      await client.query(`GRANT SELECT, UPDATE ON audit_log TO erasure_outsider`);
      await client.query(`SET LOCAL ROLE erasure_outsider`);
      await client.query(`SELECT set_config('accounting.audit_erasing', 'on', true)`);
      await expect(client.query(`UPDATE audit_log SET before = NULL WHERE target_id = $1`, [userId])).rejects.toThrow(
        /append-only/,
      );
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('replaces the email as a whole address anywhere, the username as a whole word under name keys only', async () => {
    const { rows } = await own.db.query(
      `SELECT erase_json($1, erase_email_pattern('a@b.io'), erase_name_pattern('ann'), false) AS doc,
              erase_text($2, erase_email_pattern('a@b.io'), erase_name_pattern('ann')) AS text`,
      [
        {
          username: 'ann',
          name: 'anna',
          note: 'hi ann',
          s: 'ann',
          source: 'ann',
          e: 'Mail A@B.IO now',
          o: 'ba@b.io',
          u: 'a@b.io.uk',
          k: [1, true, 'ann', { d: 'a@b.io', displayName: ['ann', 'bob'] }],
        },
        'Keys of ann (a@b.io, not ba@b.io or anna).',
      ],
    );
    expect(rows[0].doc).toEqual({
      username: '[erased]',
      name: 'anna',
      note: 'hi [erased]',
      s: 'ann',
      source: 'ann',
      e: 'Mail [erased] now',
      o: 'ba@b.io',
      u: 'a@b.io.uk',
      k: [1, true, 'ann', { d: '[erased]', displayName: ['[erased]', 'bob'] }],
    });
    expect(rows[0].text).toBe('Keys of [erased] ([erased], not ba@b.io or anna).');
  });

  it('a Parquet export after the erasure holds neither the email nor the username', async () => {
    const run = await t.http.post('/api/exports/run').set(admin).send();
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const [done] = await waitForRuns(t, [run.body.id as string]);
    expect(done.status, JSON.stringify(done)).toBe('completed');
    const files = await filesUnder(exportDir);
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((f) => f.endsWith('.parquet'))).toBe(true);
    // Each file read back with DuckDB, every column of every row as text (the bytes are compressed,
    // so only a reader sees what they hold): the person's rows are there by id, not by email or name.
    let theirs = 0;
    for (const file of files) {
      const [row] = await duckQuery(
        exportDir,
        `SELECT count(*) FILTER (WHERE strpos(CAST(t AS VARCHAR), ${literal(userId)}) > 0) AS theirs,
                count(*) FILTER (WHERE strpos(lower(CAST(t AS VARCHAR)), ${literal(email.toLowerCase())}) > 0
                                    OR strpos(CAST(t AS VARCHAR), ${literal(username)}) > 0) AS named
           FROM read_parquet(${literal(file)}) t`,
      );
      expect(Number(row.named), file).toBe(0);
      theirs += Number(row.theirs);
    }
    expect(theirs).toBeGreaterThan(0);
  });
});

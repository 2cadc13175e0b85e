import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { readExported } from './support/parquet.js';
import { waitForRuns } from './support/parquet-checks.js';

/**
 * Erasure changes only words (docs/erasure.md "Only the account's own rows"): in the erased account's own rows
 * the email and the username become `[erased]` where they stand as whole words, a note or reason is
 * never removed whole, and no other account's notes change. On a database of its own, as every spec
 * that erases.
 */
const tag = randomUUID().slice(0, 8);
const adminId = uniqueId('wadmin');
const admin = bearer(token({ sub: adminId, role: 'admin' }));

interface Person {
  id: string;
  email: string;
  username: string;
  role?: string;
}
const jwtOf = (p: Person) =>
  bearer(token({ sub: p.id, email: p.email, username: p.username, ...(p.role ? { role: p.role } : {}) }));

// A supervisor whose username is a word staff use in their notes about others.
const goodwill: Person = {
  id: uniqueId('sup'),
  email: `gw-${tag}@example.com`,
  username: 'Goodwill',
  role: 'supervisor',
};
const alice: Person = { id: uniqueId('alice'), email: `alice-${tag}@example.com`, username: uniqueId('alicename') };
const carol: Person = { id: uniqueId('carol'), email: `carol-${tag}@example.com`, username: uniqueId('carolname') };
// Regular-expression metacharacters in the username: matched as the text they are.
const meta: Person = { id: uniqueId('meta'), email: `Meta.${tag}+x@example.com`, username: `r.e+g(${tag})*` };
// A username found inside longer words (`Goodwill`, `willing`): only the whole word goes.
const will: Person = { id: uniqueId('will'), email: `will-${tag}@example.com`, username: 'will' };

async function notesOf(own: OwnDatabase, userId: string): Promise<string[]> {
  const { rows } = await own.db.query<{ notes: string }>(
    `SELECT al.notes FROM credit_allocations al JOIN accounts a ON a.account_id = al.account_id
      WHERE a.user_id = $1 AND al.notes IS NOT NULL ORDER BY al.id`,
    [userId],
  );
  return rows.map((r) => r.notes);
}

/** The `notes` of the grant entries about `userId`'s lots, in order. */
async function grantEntryNotes(own: OwnDatabase, userId: string): Promise<unknown[]> {
  const { rows } = await own.db.query<{ notes: unknown }>(
    `SELECT l.after -> 'notes' AS notes FROM audit_log l
      WHERE l.action = 'credits.allocate' AND l.after ->> 'userId' = $1 ORDER BY l.id`,
    [userId],
  );
  return rows.map((r) => r.notes);
}

describe('an erasure changes only words', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let exportDir: string;
  let before: Record<string, string[]>;

  const grant = async (by: Record<string, string>, userId: string, notes: string) => {
    const res = await t.http.post('/api/credits/allocate').set(by).send({ userId, credits: 100, notes });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };
  const erase = async (p: Person) => {
    const res = await t.http.post(`/api/users/${p.id}/erasure`).set(admin).send({ reason: 'Asked' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };

  beforeAll(async () => {
    own = await ownDatabase('erasure_words');
    exportDir = await mkdtemp(path.join(tmpdir(), 'erasure-words-'));
    t = await startTestApp({ DATABASE_URL: own.url, EXPORT_DIR: exportDir, JOBS_ENABLED: 'false' });
    for (const p of [goodwill, alice, carol, meta, will]) await t.http.get('/api/users/me').set(jwtOf(p)).expect(200);
    await t.http.get('/api/users/me').set(admin).expect(200);
    await grant(jwtOf(goodwill), alice.id, 'Goodwill gesture after the outage');
    await grant(jwtOf(goodwill), carol.id, 'A Goodwill credit, not Goodwillish');
    await grant(admin, meta.id, `For ${meta.username} and rXe+g(${tag})*, not ${meta.username}s; ${meta.email}.`);
    await grant(admin, will.id, 'Goodwill from will, willing');
    before = { alice: await notesOf(own, alice.id), carol: await notesOf(own, carol.id) };
    // Words in a record of their own: its operation, its metadata's name keys, its budget scopes (a
    // value merely equal to the username under another key stays, as everywhere).
    for (const p of [meta, will]) {
      const res = await t.http
        .post('/api/usage/record')
        .set(jwtOf(p))
        .send({
          service: 'chat',
          operation: `summary for ${p.username}`,
          credits: 1,
          metadata: { note: `asked by ${p.username}`, customer: p.email, source: p === will ? p.username : 'app' },
          scopes: { project: p.email, tag: [p.email, 'keep'], run: `run of ${p.email}`, session: p.email },
        });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    for (const p of [goodwill, meta, will]) await erase(p);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await own?.drop();
    if (exportDir) await rm(exportDir, { recursive: true, force: true });
  });

  it("erasing a supervisor named like a word leaves the others' notes, and the entries keep theirs", async () => {
    expect(await notesOf(own, alice.id)).toEqual(before.alice);
    expect(await notesOf(own, carol.id)).toEqual(before.carol);
    expect(before.alice).toEqual(['Goodwill gesture after the outage']);
    // The grant entries are the supervisor's (they acted): the word goes, the note stays.
    expect(await grantEntryNotes(own, alice.id)).toEqual(['[erased] gesture after the outage']);
    expect(await grantEntryNotes(own, carol.id)).toEqual(['A [erased] credit, not Goodwillish']);
  });

  it('a username with metacharacters is matched as its text, a longer word keeps it', async () => {
    expect(await notesOf(own, meta.id)).toEqual([`For [erased] and rXe+g(${tag})*, not ${meta.username}s; [erased].`]);
    expect(await grantEntryNotes(own, meta.id)).toEqual([
      `For [erased] and rXe+g(${tag})*, not ${meta.username}s; [erased].`,
    ]);
    expect(await notesOf(own, will.id)).toEqual(['Goodwill from [erased], willing']);
    expect(await grantEntryNotes(own, will.id)).toEqual(['Goodwill from [erased], willing']);
  });

  it("a record's operation, metadata and four scope ids lose the words, nothing more", async () => {
    const { rows } = await own.db.query(
      `SELECT r.operation, r.metadata, r.scope_project, r.scope_tags, r.scope_run, r.scope_session
         FROM usage_records r WHERE r.user_id = $1`,
      [will.id],
    );
    expect(rows).toEqual([
      {
        operation: 'summary for [erased]',
        metadata: { note: 'asked by [erased]', customer: '[erased]', source: 'will' },
        scope_project: '[erased]',
        scope_tags: ['[erased]', 'keep'],
        scope_run: 'run of [erased]',
        scope_session: '[erased]',
      },
    ]);
    const { rows: metaRows } = await own.db.query(`SELECT r.operation FROM usage_records r WHERE r.user_id = $1`, [
      meta.id,
    ]);
    expect(metaRows).toEqual([{ operation: 'summary for [erased]' }]);
  });

  it('an export after the erasure holds neither the username nor the email', async () => {
    const run = await t.http.post('/api/exports/run').set(admin).send();
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const [done] = await waitForRuns(t, [run.body.id as string]);
    expect(done.status, JSON.stringify(done)).toBe('completed');
    const records = await readExported(exportDir, 'usage_records');
    const theirs = records.filter((r) => r.user_id === will.id || r.user_id === meta.id);
    expect(theirs).toHaveLength(2);
    for (const r of theirs) {
      const text = JSON.stringify(r);
      expect(text).not.toContain('summary for will');
      expect(text).not.toContain(meta.username);
      expect(text.toLowerCase()).not.toContain(meta.email.toLowerCase());
      expect(text).not.toContain(will.email);
    }
  });
});

import type pg from 'pg';
import { expect } from 'vitest';

import type { TestApp } from './app.js';

/**
 * Every (table, column) whose text holds the email (any case) or the username: each text, JSON or
 * text/JSON array column of each table of every schema but the system's, as information_schema lists
 * them (no hand-made list: a table added later is searched too). The username is searched as a
 * substring: a test gives it a value found nowhere else.
 */
export async function mentions(db: pg.Pool, email: string, username: string): Promise<string[]> {
  const { rows: columns } = await db.query<{ table_schema: string; table_name: string; column_name: string }>(
    `SELECT c.table_schema, c.table_name, c.column_name
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg\\_%'
        AND t.table_type = 'BASE TABLE'
        AND c.udt_name IN ('text', 'varchar', 'bpchar', 'json', 'jsonb', '_text', '_varchar', '_bpchar', '_json', '_jsonb')`,
  );
  expect(columns.length).toBeGreaterThan(100);
  const names = columns.map((c) => `${c.table_name}.${c.column_name}`);
  // Plain text, JSON and arrays of text are all among them.
  expect(names).toEqual(expect.arrayContaining(['user_accounts.email', 'audit_log.after', 'webhook_endpoints.events']));
  const found: string[] = [];
  for (const { table_schema: schema, table_name: table, column_name: column } of columns) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM "${schema}"."${table}"
        WHERE strpos(lower("${column}"::text), lower($1)) > 0 OR strpos("${column}"::text, $2) > 0`,
      [email, username],
    );
    if (rows[0].n > 0) found.push(`${schema}.${table}.${column}`);
  }
  return found;
}

/**
 * Words about a person in the free text of their own account's rows, each written the way a client
 * or staff would: a key name, allocation notes, a usage record's operation and metadata, a
 * correction's reason, a transfer's reason, an account price's notes, a failed purchase's reason.
 * `model` has a price; the person has at least 2 credits left. Answers nothing; each write must pass.
 */
export async function seedWords(
  t: Pick<TestApp, 'http'>,
  staff: Record<string, string>,
  person: { auth: Record<string, string>; userId: string; email: string; username: string; model: string },
  other: string,
): Promise<void> {
  const { auth, userId, email, username, model } = person;
  const ok = (res: { status: number; body: unknown }, status: number) =>
    expect(res.status, JSON.stringify(res.body)).toBe(status);
  ok(
    await t.http
      .post('/api/api-keys')
      .set(auth)
      .send({ name: `${username} laptop ${email}` }),
    201,
  );
  ok(
    await t.http
      .post('/api/credits/allocate')
      .set(staff)
      .send({ userId, credits: 5, notes: `For ${username}, asked by ${email.toUpperCase()}.` }),
    201,
  );
  const record = await t.http
    .post('/api/usage/record')
    .set(auth)
    .send({ service: 'chat', operation: email, credits: 1, metadata: { customer: email, username, plan: 'x' } });
  ok(record, 201);
  ok(
    await t.http
      .post(`/api/usage/records/${record.body.id}/corrections`)
      .set(staff)
      .send({ correctionId: 'erase-words', reason: `${username} (${email}) disputed it`, credits: 0 }),
    201,
  );
  ok(
    await t.http
      .post('/api/credits/transfers')
      .set(staff)
      .send({ from: { userId }, to: { userId: other }, credits: 1, reason: `from ${username} <${email}>` }),
    201,
  );
  ok(
    await t.http
      .post('/api/pricing/accounts')
      .set(staff)
      .send({
        userId,
        modelId: model,
        discountPercent: 10,
        effectiveFrom: new Date().toISOString(),
        notes: `Deal agreed with ${username}`,
      }),
    201,
  );
  const purchase = await t.http
    .post('/api/purchases')
    .set(staff)
    .send({ userId, credits: 10, amount: '1.00', currency: 'eur', provider: 'stripe' });
  ok(purchase, 201);
  ok(
    await t.http
      .post(`/api/purchases/${purchase.body.id}/fail`)
      .set(staff)
      .send({ reason: `card of ${email} declined` }),
    200,
  );
}

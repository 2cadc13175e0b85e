import { expect } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './app.js';

/** Helpers shared by the streaming-session specs. */
export const adminToken = () => token({ sub: 'streaming-admin', role: 'admin' });

/** A fresh user with `credits` granted (one allocation per entry); returns its id and token. */
export async function userWithCredits(
  t: TestApp,
  grants: { credits: number; expiryDays?: number }[],
  users: string[],
): Promise<{ userId: string; jwt: string; allocationIds: string[] }> {
  const userId = uniqueId('ss');
  users.push(userId);
  const allocationIds: string[] = [];
  for (const g of grants) {
    const res = await t.http
      .post('/api/credits/allocate')
      .set(bearer(adminToken()))
      .send({
        userId,
        credits: g.credits,
        expiryDays: g.expiryDays ?? 30,
        email: `${userId}@example.com`,
        username: userId,
      });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    allocationIds.push(res.body.id);
  }
  if (grants.length === 0) {
    // The account is created by its first request.
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId })))
      .expect(200);
  }
  return { userId, jwt: token({ sub: userId }), allocationIds };
}

export async function available(t: TestApp, userId: string): Promise<number> {
  const { rows } = await t.db.query(
    `SELECT COALESCE(SUM(remaining_credits), 0)::int AS n FROM credit_allocations WHERE user_id = $1 AND expires_at > now()`,
    [userId],
  );
  return rows[0].n;
}

export async function usageRecordsOf(t: TestApp, sessionId: string) {
  const { rows } = await t.db.query(
    `SELECT id, user_id, service, operation, credits, model_id, tokens, metadata, billing_status, pricing_rule_id
       FROM usage_records WHERE metadata->>'sessionId' = $1`,
    [sessionId],
  );
  return rows;
}

export async function ledgerOf(t: TestApp, userId: string) {
  const { rows } = await t.db.query(
    `SELECT id, allocation_id, kind, amount, session_id, usage_record_id FROM credit_ledger WHERE user_id = $1 ORDER BY id`,
    [userId],
  );
  return rows as {
    id: string;
    allocation_id: string;
    kind: string;
    amount: number;
    session_id: string | null;
    usage_record_id: string | null;
  }[];
}

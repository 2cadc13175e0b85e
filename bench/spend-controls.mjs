// The spend-controls scenario of npm run bench: records through API keys, once through keys without
// a budget for users without limits, once through keys with a budget for users with an hourly spend
// limit (both far from being reached, so every check runs and none refuses).
import { accessToken } from './lib.mjs';

/** One API key per user (the user's own, created over HTTP), with or without a budget: `{id, userId}`. */
export async function createKeys(service, userIds, tokens, budget) {
  const keys = [];
  for (const [i, auth] of tokens.entries()) {
    const res = await fetch(`${service.base}/api/api-keys`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: budget ? 'bench-budgeted' : 'bench-plain',
        permissions: ['usage:write'],
        ...(budget ? { creditLimit: 2_000_000_000, limitPeriod: 'month' } : {}),
      }),
    });
    if (res.status !== 201) throw new Error(`creating a bench key: ${res.status} ${await res.text()}`);
    keys.push({ id: (await res.json()).id, userId: userIds[i] });
  }
  return keys;
}

/** The chat backend's service key (scope usage:ingest), made by an admin. */
export async function createServiceKey(service) {
  const res = await fetch(`${service.base}/api/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken('bench-admin', 'admin')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench-service', permissions: ['usage:ingest'] }),
  });
  if (res.status !== 201) throw new Error(`creating the bench service key: ${res.status} ${await res.text()}`);
  return (await res.json()).key;
}

/** Every bench user gets an hourly spend limit far above what the run spends. */
export async function limitSpendRate(db, userIds, perHour) {
  await db.query(
    `INSERT INTO credit_accounts (account_id, max_credits_per_hour)
     SELECT a.account_id, $2 FROM accounts a WHERE a.user_id = ANY ($1::varchar[])
     ON CONFLICT (account_id) DO UPDATE SET max_credits_per_hour = EXCLUDED.max_credits_per_hour`,
    [userIds, perHour],
  );
}

/**
 * Lifts those limits again, so what runs after (plain records, the batch) measures plain ingestion,
 * not the rate-limit path, as pgbench measures plain transactions.
 */
export async function unlimitSpendRate(db) {
  await db.query(`UPDATE credit_accounts SET max_credits_per_hour = NULL WHERE max_credits_per_hour IS NOT NULL`);
}

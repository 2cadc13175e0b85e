// After the HA demo's load: the checks that decide whether it passed.
import { query } from './cluster.mjs';

export async function verify({ databaseUrl, baseUrl, adminJwt, load, users, grant }) {
  const acked = [...load.acked.values()];
  const rows = await query(databaseUrl, `SELECT id, user_id, credits FROM usage_records WHERE service = 'ha-demo'`);
  const stored = new Map(rows.map((r) => [r.id, r]));
  const distinctIds = new Set(acked.map((a) => a.recordId));
  const missing = acked.filter((a) => !stored.has(a.recordId));
  const wrong = acked.filter((a) => stored.has(a.recordId) && stored.get(a.recordId).credits !== a.credits);

  const balances = await query(
    databaseUrl,
    `SELECT o.user_id,
            sum(a.total_credits)::bigint AS granted,
            sum(a.remaining_credits)::bigint AS remaining,
            min(a.remaining_credits) AS lowest,
            (SELECT COALESCE(sum(u.credits), 0)::bigint FROM usage_records u WHERE u.user_id = o.user_id) AS used
       FROM credit_allocations a JOIN accounts o ON o.account_id = a.account_id
      WHERE o.user_id = ANY($1) GROUP BY o.user_id`,
    [users],
  );
  const spentMismatch = balances.filter((b) => Number(b.granted) - Number(b.remaining) !== Number(b.used));
  const negative = balances.filter((b) => b.lowest < 0);
  const ackedCredits = acked.reduce((sum, a) => sum + a.credits, 0);
  const usedCredits = balances.reduce((sum, b) => sum + Number(b.used), 0);

  const res = await fetch(`${baseUrl}/api/credits/reconcile`, { headers: { Authorization: `Bearer ${adminJwt}` } });
  const reconcile = await res.json();

  return {
    everyAcknowledgedRecordExists: {
      ok: missing.length === 0 && wrong.length === 0,
      acknowledged: acked.length,
      missing: missing.length,
      wrongAmount: wrong.length,
      // Which ones, to line them up with the events' times and the kept logs (HA_KEEP=1).
      missingRecords: missing.slice(0, 20).map((a) => ({
        ...a,
        sentAt: new Date(a.sentAt).toISOString(),
        ackedAt: new Date(a.ackedAt).toISOString(),
      })),
    },
    exactlyOnce: {
      ok: distinctIds.size === acked.length && rows.length === acked.length,
      acknowledgedKeys: acked.length,
      distinctRecordIds: distinctIds.size,
      storedRecords: rows.length,
    },
    creditsMatchRecords: {
      ok: spentMismatch.length === 0 && usedCredits === ackedCredits,
      ackedCredits,
      usedCredits,
      users: balances.length,
      grantPerUser: grant,
    },
    noNegativeAllocation: { ok: negative.length === 0 },
    reconcile: {
      ok: res.status === 200 && reconcile.mismatches?.length === 0,
      checkedAllocations: reconcile.checkedAllocations,
      mismatches: reconcile.mismatches?.length,
    },
  };
}

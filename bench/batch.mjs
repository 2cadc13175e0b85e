// The batch scenario of npm run bench: 4 clients sending 1,000-event batches spread over every seeded
// user (an admin records for them), each event with its own eventId; then the money invariants and
// reconcile, which must be clean after the load.
import { randomUUID } from 'node:crypto';

import autocannon from 'autocannon';

import { accessToken } from './lib.mjs';
import { failures, withCpu } from './measure.mjs';

export const BATCH_EVENTS = 1000;
const CLIENTS = 4;

/**
 * Every event id this process sends, in every call and every round: an id sent again is answered as
 * a duplicate (no take, no record), far cheaper than a new event, so a window that repeated an
 * earlier window's ids would measure duplicates.
 */
const RUN = randomUUID().slice(0, 8);
let sent = 0;

/** The usage records in the database behind `db` (a pg client or pool). */
export const recordCount = async (db) => Number((await db.query('SELECT count(*) AS n FROM usage_records')).rows[0].n);

/**
 * Batches for `duration` seconds (after 2 s of warm-up); events/s, latency of a batch, the service's
 * Node CPU per event. With `db` (the service's database) it also counts the records the batches
 * wrote: `notCreated` is the events sent, warm-up included, that wrote no record (a duplicate or a
 * refusal), which must be 0 for the rate to be that of new events.
 */
export async function runBatches(service, userIds, duration, db) {
  const authorization = `Bearer ${accessToken('bench-admin', 'admin')}`;
  const body = () =>
    JSON.stringify({
      events: Array.from({ length: BATCH_EVENTS }, () => ({
        eventId: `bench-${RUN}-${sent++}`,
        service: 'bench',
        operation: 'op',
        credits: 1,
        userId: userIds[Math.floor(Math.random() * userIds.length)],
      })),
    });
  const run = (seconds) =>
    autocannon({
      url: service.base,
      connections: CLIENTS,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          path: '/api/usage/records/batch',
          setupRequest: (req) => ({
            ...req,
            headers: { 'content-type': 'application/json', authorization },
            body: body(),
          }),
        },
      ],
    });
  const before = db ? await recordCount(db) : null;
  const warm = await run(2);
  const { result, cpuMicros } = await withCpu(service, () => run(duration));
  const events = result.requests.total * BATCH_EVENTS;
  // A batch still in flight when autocannon stops is not in its totals but may write its records.
  const notCreated = db
    ? Math.max(0, (warm.requests.total + result.requests.total) * BATCH_EVENTS - ((await recordCount(db)) - before))
    : null;
  return {
    notCreated,
    eventsPerSecond: Math.round(result.requests.average * BATCH_EVENTS),
    events,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: failures(result),
    cpuMicros,
    cpuMicrosPerEvent: events > 0 ? cpuMicros / events : null,
  };
}

/** The money invariants after the load: reconcile's mismatches and the ledger/record cross-checks. */
export async function moneyChecks(service, db) {
  const res = await fetch(`${service.base}/api/credits/reconcile`, {
    headers: { authorization: `Bearer ${accessToken('bench-admin', 'admin')}` },
  });
  const reconcile = await res.json();
  const { rows } = await db.query(
    `SELECT (SELECT count(*)::int FROM credit_allocations WHERE remaining_credits < 0) AS negative,
            -- every bench record's credits = what its ledger lines took (debits and overdraft)
            (SELECT count(*)::int FROM usage_records r
              WHERE r.service = 'bench' AND r.credits <> COALESCE((SELECT -sum(l.amount) FROM credit_ledger l
                                            WHERE l.usage_record_id = r.id AND l.kind IN ('debit', 'overdraft')), 0)
            ) AS unbalanced_records,
            -- every org member's counter = what their lines on the org spent (bench/orgs.mjs)
            (SELECT count(*)::int FROM org_members m
              WHERE (SELECT COALESCE(sum(spent), 0) FROM credit_cap_spend s
                      WHERE s.subject_kind = 'member' AND s.subject_id = m.user_id
                        AND s.account_id = (SELECT account_id FROM accounts WHERE org_id = m.org_id))
                    <> (SELECT COALESCE(-sum(l.amount), 0) FROM credit_ledger l
                         WHERE l.account_id = (SELECT account_id FROM accounts WHERE org_id = m.org_id) AND l.member_id = m.user_id
                           AND l.kind IN ('debit', 'hold', 'release', 'overdraft'))
            ) AS member_counters_off,
            (SELECT count(*)::int FROM usage_records) AS records`,
  );
  return { mismatches: reconcile.mismatches.length, checkedAllocations: reconcile.checkedAllocations, ...rows[0] };
}

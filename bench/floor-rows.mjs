// The write floor of a batch event: pgbench writing exactly the rows (and so the index entries,
// foreign-key checks and triggers) that POST /api/usage/records/batch writes for one event — its
// usage record, its event id and its ledger line — into the real tables, 1,000 events a
// transaction, with no lock, decision, allocation update or service. What the batch can reach at
// most on the machine it runs on. The rows carry what the bench's batch events carry that puts them
// in an index: the record's credits are named by an admin (`credits_named`, with the request's id:
// metering is its own audit trail, docs/audit.md, so it has an entry in usage_records_audit_idx)
// and the ledger line is a debit recognised as revenue (`category`, so it has one in
// credit_ledger_finance_idx). npm run bench:floor (floor.mjs) and the versions run of npm run bench
// (versions.mjs) both measure it here, so they write the same rows.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { log, pgbench, tpsOf } from './lib.mjs';

export const FLOOR_EVENTS = 1000;

/** The floor's rows as the CTEs r (records), e (event ids) and l (ledger lines) of one statement. */
const floorRows = (idFunction, users, events) => `
WITH r AS (
  INSERT INTO usage_records (id, user_id, "timestamp", service, operation, credits, billing_status, shortfall,
                             usage_source, actor_id, credits_named, request_id, account_id)
  SELECT ${idFunction}, u.user_id, clock_timestamp(), 'bench', 'op', 1,
         'billed', 0, 'reported', 'bench-admin', true, '00000000-0000-4000-8000-000000000000', (SELECT a.account_id FROM accounts a WHERE a.user_id = u.user_id)
    FROM (SELECT 'bench-' || (1 + floor(random() * ${users})::int) AS user_id FROM generate_series(1, ${events})) u
  RETURNING id, user_id),
e AS (
  INSERT INTO usage_event_ids (owner, event_id, usage_record_id)
  SELECT 'bench-admin', 'floor-' || r.id, r.id FROM r RETURNING 1),
l AS (
  INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, usage_record_id, created_by,
                             category)
  SELECT a.account_id, r.user_id, al.id, 'debit', -1, 0, r.id, 'bench-admin', 'recognized'
    FROM r JOIN accounts a ON a.user_id = r.user_id JOIN credit_allocations al ON al.account_id = a.account_id
  RETURNING 1)`;

/** One transaction of `events` events of random users among bench-1…bench-`users`. */
export const floorScript = (idFunction, users, events = FLOOR_EVENTS) => `${floorRows(idFunction, users, events)}
SELECT (SELECT count(*) FROM e) + (SELECT count(*) FROM l);
`;

/**
 * The floor's rows with what the engine must also do to them for the same events, and no more: the
 * events' accounts locked in account id order (FOR NO KEY UPDATE, as credits_lock_account_ids()
 * locks them) and each account's allocation lowered by its events' credits (one UPDATE per
 * allocation, as credit_ledger_write() groups them). No decision, no PL/pgSQL, no JSON: what any
 * design of this schema writes (bench/batch-loop.mjs prints it beside the batch and the floor).
 */
export const lockedFloorScript = (idFunction, users, events = FLOOR_EVENTS) => `${floorRows(idFunction, users, events)},
k AS (SELECT a.account_id FROM accounts a WHERE a.user_id IN (SELECT user_id FROM r) ORDER BY a.account_id
        FOR NO KEY UPDATE),
u AS (UPDATE credit_allocations al SET remaining_credits = al.remaining_credits - x.n
        FROM (SELECT a.account_id, count(*)::int AS n FROM r JOIN accounts a ON a.user_id = r.user_id GROUP BY 1) x
       WHERE al.account_id = x.account_id
      RETURNING 1)
SELECT (SELECT count(*) FROM e) + (SELECT count(*) FROM l) + (SELECT count(*) FROM u) + (SELECT count(*) FROM k);
`;

/**
 * Events per second that `clients` pgbench clients write for `duration` seconds into the database at
 * `url` (migrated, with users bench-1…bench-`users` seeded), ids made by `idFunction`.
 */
export function measureFloor(url, { users, clients, duration, idFunction = 'uuid_v7()' }) {
  const file = path.join(tmpdir(), `accounting-floor-${process.pid}-${idFunction.replace(/\W/g, '')}.sql`);
  writeFileSync(file, floorScript(idFunction, users));
  log(`write floor, ${idFunction} ids, ${clients} clients × ${FLOOR_EVENTS}-event transactions, ${duration} s ...`);
  const out = pgbench(['-n', '-c', String(clients), '-j', String(clients), '-T', String(duration), '-f', file, url]);
  return Math.round(tpsOf(out) * FLOOR_EVENTS);
}

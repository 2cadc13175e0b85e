// The write floor of a batch event: pgbench writing exactly the rows (and so the index entries,
// foreign-key checks and triggers) that POST /api/usage/records/batch writes for one event — its
// usage record, its event id and its ledger line — into the real tables (no audit entry: metering is
// its own audit trail, the record is the `usage.record` entry, docs/audit.md), 1,000 events a transaction, with no lock, decision, allocation update or service. What the
// batch can reach at most on the machine it runs on. npm run bench:floor (floor.mjs) and the
// versions run of npm run bench (versions.mjs) both measure it here, so they write the same rows.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { log, pgbench, tpsOf } from './lib.mjs';

export const FLOOR_EVENTS = 1000;

/** One transaction of FLOOR_EVENTS events of random users among bench-1…bench-`users`. */
export const floorScript = (idFunction, users) => `
WITH r AS (
  INSERT INTO usage_records (id, user_id, "timestamp", service, operation, credits, billing_status, shortfall,
                             usage_source, actor_id)
  SELECT ${idFunction}, 'bench-' || (1 + floor(random() * ${users})::int), clock_timestamp(), 'bench', 'op', 1,
         'billed', 0, 'reported', 'bench-admin'
    FROM generate_series(1, ${FLOOR_EVENTS})
  RETURNING id, user_id),
e AS (
  INSERT INTO usage_event_ids (owner, event_id, usage_record_id)
  SELECT 'bench-admin', 'floor-' || r.id, r.id FROM r RETURNING 1),
l AS (
  INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, usage_record_id, created_by)
  SELECT a.account_id, r.user_id, al.id, 'debit', -1, 0, r.id, 'bench-admin'
    FROM r JOIN accounts a ON a.user_id = r.user_id JOIN credit_allocations al ON al.account_id = a.account_id
  RETURNING 1)
SELECT (SELECT count(*) FROM e) + (SELECT count(*) FROM l);
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

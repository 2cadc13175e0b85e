import type pg from 'pg';

/**
 * An organisation `org` (its account made by the trigger) whose members each have a daily credit
 * limit: `limits` pairs a member's user id (its user account made already) with its limit. For the
 * engine's specs that call its functions by SQL.
 */
export async function orgWithMemberLimits(db: pg.Pool, org: string, limits: readonly (readonly [string, number])[]) {
  await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [org]);
  for (const [member, limit] of limits)
    await db.query(
      `WITH m AS (INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member'))
       INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
       VALUES ('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), $3::bigint, 'day')`,
      [org, member, limit],
    );
}

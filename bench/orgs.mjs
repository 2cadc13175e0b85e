// The organisation scenario of npm run bench: records charged to a few organisations by many of their
// members (docs/orgs.md), metered as the gateway does it (a service principal naming the
// member and the org), beside the user record. Every org charge takes the org account's lock, reads
// the membership and the member's limit and counts the member's spend, so it measures what member
// caps cost, and that a few accounts shared by many members serialise on their lock.

/** `orgs` organisations, each with `members` of the seeded users (bench-1…) and `credits` in its pool. */
export async function seedOrgs(db, { orgs, members, credits }) {
  const result = [];
  for (let o = 1; o <= orgs; o++) {
    const orgId = `bench-org-${o}`;
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'bench')`, [orgId]);
    // Members bench-((o-1)·members+1)…: each with a daily limit far above what a run spends, so the
    // cap is read and counted on every record without refusing any.
    const { rows } = await db.query(
      `WITH m AS (INSERT INTO org_members (org_id, user_id, role)
                  SELECT $1, 'bench-' || g, 'member' FROM generate_series($2::int, $3::int) g
                  RETURNING user_id),
       cap AS (INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
               SELECT 'member', m.user_id, (SELECT account_id FROM accounts WHERE org_id = $1), 1000000000, 'day' FROM m)
       SELECT user_id FROM m`,
      [orgId, (o - 1) * members + 1, o * members],
    );
    // The engine takes account ids from migration 1732000065000 on, (owner, kind) before.
    const byId = (
      await db.query(
        `SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'credits_grant' AND 'p_account_id' = ANY (proargnames)) AS x`,
      )
    ).rows[0].x;
    await db.query(
      byId
        ? `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), $2, 'bench',
                                       now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL, false)`
        : `SELECT 1 FROM credits_grant($1, $2, 'bench', now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL,
                                       false, 'org')`,
      [orgId, credits],
    );
    for (const { user_id: userId } of rows) result.push({ orgId, userId });
  }
  return result;
}

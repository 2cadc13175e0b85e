import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * Whose cap: a budgeted API key (its budget spans every account it charges) or a member of the org
 * whose account is `accountId` (null: the org has none).
 */
export type CapSubject = { kind: 'key' } | { kind: 'member'; accountId: string | null };

/** A cap's limit with what its subject spent in the limit's current period. */
export interface CapRow {
  limit: number;
  period: string;
  /** credit_cap_spent() of the period (open holds included). */
  spentInPeriod: number;
  /** When the period ends (null: `total`, it never does). */
  resetsAt: Date | null;
}

interface RawCap {
  subject_id: string;
  credit_limit: string;
  period: string;
  spent: string;
  resets_at: Date | null;
}

/** The cap's account (credit_caps' key), $2: 0 for a key, the organisation's account for a member. */
const ACCOUNT_SQL = `$2::bigint`;

const accountOf = (subject: CapSubject): string | null => (subject.kind === 'member' ? subject.accountId : '0');

/** credit_caps: the limits of every cap (docs/spend-controls.md); their spend is credit_cap_spend's. */
@Injectable()
export class CreditCapsRepository {
  /** Sets the subject's limit (replacing one); what it spent stays counted. `ownerId`: a key's owner. */
  async set(
    m: EntityManager,
    subject: CapSubject,
    subjectId: string,
    limit: { credits: number; period: string; ownerId: string | null },
  ): Promise<void> {
    await m.query(
      `INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period, owner_id)
       VALUES ($1, $3, ${ACCOUNT_SQL}, $4, $5, $6)
       ON CONFLICT (subject_kind, subject_id, account_id) DO UPDATE
         SET credit_limit = EXCLUDED.credit_limit, period = EXCLUDED.period, updated_at = now()`,
      [subject.kind, accountOf(subject), subjectId, limit.credits, limit.period, limit.ownerId],
    );
  }

  /**
   * Removes the subject's limit. The row stays (a member's limit_reached_period: a limit set again in
   * the same period sends no second event).
   */
  async clear(m: EntityManager, subject: CapSubject, subjectId: string): Promise<void> {
    await m.query(
      `UPDATE credit_caps SET credit_limit = NULL, period = NULL, updated_at = now()
        WHERE subject_kind = $1 AND subject_id = $3 AND account_id = ${ACCOUNT_SQL} AND credit_limit IS NOT NULL`,
      [subject.kind, accountOf(subject), subjectId],
    );
  }

  /**
   * The limits of these subjects that have one, by subject id, with what each spent in its current
   * period at `at` (null: the database's clock).
   */
  async find(
    m: EntityManager,
    subject: CapSubject,
    subjectIds: string[],
    at: Date | null,
  ): Promise<Map<string, CapRow>> {
    if (subjectIds.length === 0) return new Map();
    const rows: RawCap[] = await m.query(
      `SELECT c.subject_id, c.credit_limit, c.period, sp.spent,
              credit_key_period_end(c.period, COALESCE($4::timestamptz, now())) AS resets_at
         FROM credit_caps c
         CROSS JOIN LATERAL credit_cap_spent(c.subject_kind, c.subject_id, c.account_id, c.period, COALESCE($4::timestamptz, now())) sp
        WHERE c.subject_kind = $1 AND c.subject_id = ANY($3::varchar[]) AND c.account_id = ${ACCOUNT_SQL}
          AND c.credit_limit IS NOT NULL`,
      [subject.kind, accountOf(subject), subjectIds, at],
    );
    return new Map(
      rows.map((r) => [
        r.subject_id,
        { limit: Number(r.credit_limit), period: r.period, spentInPeriod: Number(r.spent), resetsAt: r.resets_at },
      ]),
    );
  }

  /**
   * Deletes up to `batch` kept check answers (credit_cap_event_ids) older than `days` days, oldest
   * first; rows another instance is deleting are skipped.
   */
  async deleteEventIdsOlderThan(m: EntityManager, days: number, batch: number): Promise<number> {
    const rows: { n: string }[] = await m.query(
      `WITH old AS (
         SELECT account_id, subject_kind, subject_id, event_id FROM credit_cap_event_ids
          WHERE created_at < now() - make_interval(days => $1)
          ORDER BY created_at LIMIT $2
            FOR UPDATE SKIP LOCKED),
       gone AS (
         DELETE FROM credit_cap_event_ids e USING old
          WHERE e.account_id = old.account_id AND e.subject_kind = old.subject_kind
            AND e.subject_id = old.subject_id AND e.event_id = old.event_id RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [days, batch],
    );
    return Number(rows[0].n);
  }
}

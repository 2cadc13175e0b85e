import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { cursorTimestampSql } from '../common/http/pagination.js';
import { insertNew } from '../database/insert-new.js';
import { Promotion } from './entities/promotion.entity.js';
import { PromotionRedemption } from './entities/promotion-redemption.entity.js';

export type NewPromotion = Pick<
  Promotion,
  | 'code'
  | 'credits'
  | 'expiryDays'
  | 'startsAt'
  | 'endsAt'
  | 'maxRedemptions'
  | 'perAccount'
  | 'accounts'
  | 'newAccountsWithinDays'
  | 'createdBy'
>;

/** The promotions module's data: codes, redemptions, the refused-redemption counters. */
@Injectable()
export class PromotionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The new code; null when it exists (in any case). */
  insert(manager: EntityManager, input: NewPromotion): Promise<Promotion | null> {
    return insertNew(manager, Promotion, input, { code: input.code });
  }

  /** The code locked (FOR UPDATE): its redemptions are counted and made one at a time. */
  lock(manager: EntityManager, code: string): Promise<Promotion | null> {
    return manager.findOne(Promotion, { where: { code }, lock: { mode: 'pessimistic_write' } });
  }

  find(manager: EntityManager, code: string): Promise<Promotion | null> {
    return manager.findOneBy(Promotion, { code });
  }

  async setActive(manager: EntityManager, code: string, active: boolean): Promise<Promotion> {
    await manager.update(Promotion, { code }, { active, updatedAt: () => 'now()' });
    return (await manager.findOneBy(Promotion, { code }))!;
  }

  async countRedeemed(manager: EntityManager, code: string): Promise<void> {
    await manager.increment(Promotion, { code }, 'redemptions', 1);
  }

  /** Codes newest first; the cursor keeps microseconds. */
  async list(query: {
    after: { t: string; id: string } | null;
    limit: number;
  }): Promise<(Promotion & { cursorT: string })[]> {
    const params: unknown[] = [];
    let where = '';
    if (query.after) {
      params.push(query.after.t, query.after.id);
      where = 'WHERE (p.created_at, p.code) < ($1::timestamptz, $2)';
    }
    params.push(query.limit);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT p.*, ${cursorTimestampSql('p.created_at')} AS cursor_t FROM promotions p ${where}
        ORDER BY p.created_at DESC, p.code DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) =>
      Object.assign(new Promotion(), {
        code: r.code as string,
        credits: r.credits as number,
        expiryDays: r.expiry_days as number,
        startsAt: r.starts_at as Date | null,
        endsAt: r.ends_at as Date | null,
        maxRedemptions: r.max_redemptions as number | null,
        perAccount: r.per_account as number,
        accounts: r.accounts as Promotion['accounts'],
        newAccountsWithinDays: r.new_accounts_within_days as number | null,
        active: r.active as boolean,
        redemptions: r.redemptions as number,
        createdBy: r.created_by as string,
        createdAt: r.created_at as Date,
        updatedAt: r.updated_at as Date,
        cursorT: r.cursor_t as string,
      }),
    );
  }

  /** A code's redemptions newest first. */
  async redemptions(query: {
    code: string;
    after: { t: string; id: string } | null;
    limit: number;
  }): Promise<(PromotionRedemption & { cursorT: string })[]> {
    const params: unknown[] = [query.code];
    let where = 'r.code = $1';
    if (query.after) {
      params.push(query.after.t, query.after.id);
      where += ' AND (r.created_at, r.id) < ($2::timestamptz, $3::uuid)';
    }
    params.push(query.limit);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT r.*, ${cursorTimestampSql('r.created_at')} AS cursor_t
         FROM promotion_redemptions r WHERE ${where}
        ORDER BY r.created_at DESC, r.id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) =>
      Object.assign(new PromotionRedemption(), {
        id: r.id as string,
        code: r.code as string,
        accountId: r.account_id as string,
        userId: r.user_id as string | null,
        orgId: r.org_id as string | null,
        seq: r.seq as number,
        allocationId: r.allocation_id as string,
        credits: r.credits as number,
        expiresAt: r.expires_at as Date,
        redeemedBy: r.redeemed_by as string,
        createdAt: r.created_at as Date,
        cursorT: r.cursor_t as string,
      }),
    );
  }

  /** How many times the account redeemed the code (read under the code's lock). */
  async redeemedBy(manager: EntityManager, code: string, accountId: string): Promise<number> {
    const rows: { n: number }[] = await manager.query(
      `SELECT count(*)::int AS n FROM promotion_redemptions WHERE code = $1 AND account_id = $2`,
      [code, accountId],
    );
    return rows[0].n;
  }

  async insertRedemption(
    manager: EntityManager,
    input: Omit<PromotionRedemption, 'id' | 'createdAt'>,
  ): Promise<PromotionRedemption> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(PromotionRedemption)
      .values(input)
      .returning('*')
      .updateEntity(false)
      .execute();
    const r = result.raw[0] as { id: string; created_at: Date };
    return Object.assign(new PromotionRedemption(), input, { id: r.id, createdAt: r.created_at });
  }

  /** The principal's refused redemptions in its hour (null: none, or its hour ended before `now`). */
  async failures(principal: string, now: Date): Promise<{ failures: number; windowStart: Date } | null> {
    const rows: { failures: number; window_start: Date }[] = await this.dataSource.query(
      `SELECT failures, window_start FROM promotion_failures
        WHERE principal = $1 AND window_start + interval '1 hour' > $2`,
      [principal, now],
    );
    return rows[0] ? { failures: rows[0].failures, windowStart: rows[0].window_start } : null;
  }

  /**
   * Counts one refused redemption, in a statement of its own on the pool (it must stand although the
   * redemption's transaction rolled back): a new hour starts at the first refusal after the last ended.
   * Answers the count in the hour, made atomically, so parallel refusals get 1, 2, 3…
   */
  async addFailure(principal: string, now: Date): Promise<{ failures: number; windowStart: Date }> {
    const rows: { failures: number; window_start: Date }[] = await this.dataSource.query(
      `INSERT INTO promotion_failures AS f (principal, window_start, failures) VALUES ($1, $2, 1)
       ON CONFLICT (principal) DO UPDATE SET
         window_start = CASE WHEN f.window_start + interval '1 hour' <= $2 THEN $2 ELSE f.window_start END,
         failures = CASE WHEN f.window_start + interval '1 hour' <= $2 THEN 1 ELSE f.failures + 1 END
       RETURNING failures, window_start`,
      [principal, now],
    );
    return { failures: rows[0].failures, windowStart: rows[0].window_start };
  }

  /**
   * Deletes up to `batch` refusal counters whose hour started before `before` (the job passes a day
   * ago: their hour is long over, so the next refusal would start a new one anyway). Answers how many.
   */
  async deleteFailuresBefore(before: Date, batch: number): Promise<number> {
    const rows: { n: number }[] = await this.dataSource.query(
      `WITH old AS (
         SELECT principal FROM promotion_failures WHERE window_start < $1 LIMIT $2 FOR UPDATE SKIP LOCKED),
       gone AS (DELETE FROM promotion_failures f USING old WHERE f.principal = old.principal RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [before, batch],
    );
    return rows[0].n;
  }
}

import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AccountKind } from '../../accounts/entities/account.entity.js';
import type { AutoRechargeAttemptStatus } from '../credit-views.js';

export interface AutoRechargeSettingsRow {
  enabled: boolean;
  belowCredits: number;
  rechargeCredits: number;
  maxCreditsPerMonth: number | null;
  minIntervalMinutes: number;
  consecutiveFailures: number;
}

export interface AutoRechargeAttemptRow {
  id: string;
  accountId: string;
  kind: AccountKind;
  ownerId: string;
  credits: number;
  status: AutoRechargeAttemptStatus;
  openedAt: Date;
  closedAt: Date | null;
  reason: string | null;
}

/** What auto_recharge_succeed() answers (src/engine/sql/auto_recharge_succeed.sql). */
export type SucceedOutcome = 'succeeded' | 'already_succeeded' | 'failed' | 'not_found';
/** What auto_recharge_fail() answers (src/engine/sql/auto_recharge_fail.sql). */
export type FailOutcome = 'failed' | 'already_failed' | 'succeeded' | 'not_found';

const SETTINGS_COLUMNS = `s.enabled, s.below_credits AS "belowCredits", s.recharge_credits AS "rechargeCredits",
  s.max_credits_per_month AS "maxCreditsPerMonth", s.min_interval_minutes AS "minIntervalMinutes",
  s.consecutive_failures AS "consecutiveFailures"`;

const ATTEMPT_COLUMNS = `a.id, a.account_id::text AS "accountId", c.kind, COALESCE(c.user_id, c.org_id) AS "ownerId",
  a.credits, a.status, a.opened_at AS "openedAt", a.closed_at AS "closedAt", a.reason`;

/**
 * Auto-recharge's rows (docs/auto-recharge.md): the settings and the attempts, and the threshold the
 * takes read (`credit_accounts.recharge_below`), written with the settings under the account lock.
 * Attempts are opened by auto_recharge_check() inside the takes, closed by auto_recharge_succeed()
 * and auto_recharge_fail().
 */
@Injectable()
export class AutoRechargeRepository {
  async settings(manager: EntityManager, accountId: string): Promise<AutoRechargeSettingsRow | null> {
    const rows = (await manager.query(
      `SELECT ${SETTINGS_COLUMNS} FROM auto_recharge_settings s WHERE s.account_id = $1`,
      [accountId],
    )) as AutoRechargeSettingsRow[];
    return rows[0] ?? null;
  }

  /**
   * Replaces the settings and the takes' threshold with them: the threshold while enabled, else null.
   * The failures in a row are kept (a PUT never resets them: a user could otherwise retry a declined
   * card for ever) unless `resetFailures` (staff turning it back on). Call under the account lock.
   */
  async put(
    manager: EntityManager,
    accountId: string,
    s: Omit<AutoRechargeSettingsRow, 'consecutiveFailures'>,
    updatedBy: string,
    resetFailures: boolean,
  ): Promise<AutoRechargeSettingsRow> {
    const rows = (await manager.query(
      `INSERT INTO auto_recharge_settings AS s (account_id, enabled, below_credits, recharge_credits,
                                                max_credits_per_month, min_interval_minutes, consecutive_failures,
                                                updated_by)
       VALUES ($1, $2, $3, $4, $5, $6, 0, $7)
       ON CONFLICT (account_id) DO UPDATE
         SET enabled = EXCLUDED.enabled, below_credits = EXCLUDED.below_credits,
             recharge_credits = EXCLUDED.recharge_credits, max_credits_per_month = EXCLUDED.max_credits_per_month,
             min_interval_minutes = EXCLUDED.min_interval_minutes,
             consecutive_failures = CASE WHEN $8 THEN 0 ELSE s.consecutive_failures END,
             updated_by = EXCLUDED.updated_by, updated_at = now()
       RETURNING ${SETTINGS_COLUMNS}`,
      [
        accountId,
        s.enabled,
        s.belowCredits,
        s.rechargeCredits,
        s.maxCreditsPerMonth,
        s.minIntervalMinutes,
        updatedBy,
        resetFailures,
      ],
    )) as AutoRechargeSettingsRow[];
    await manager.query(
      `INSERT INTO credit_accounts AS c (account_id, recharge_below) VALUES ($1, $2)
       ON CONFLICT (account_id) DO UPDATE SET recharge_below = EXCLUDED.recharge_below, updated_at = now()`,
      [accountId, s.enabled ? s.belowCredits : null],
    );
    return rows[0];
  }

  /** The account's newest attempts, newest first. */
  async attempts(manager: EntityManager, accountId: string, limit: number): Promise<AutoRechargeAttemptRow[]> {
    return (await manager.query(
      `SELECT ${ATTEMPT_COLUMNS} FROM auto_recharge_attempts a JOIN accounts c ON c.account_id = a.account_id
        WHERE a.account_id = $1 ORDER BY a.opened_at DESC, a.id DESC LIMIT $2`,
      [accountId, limit],
    )) as AutoRechargeAttemptRow[];
  }

  async attempt(manager: EntityManager, id: string): Promise<AutoRechargeAttemptRow | null> {
    const rows = (await manager.query(
      `SELECT ${ATTEMPT_COLUMNS} FROM auto_recharge_attempts a JOIN accounts c ON c.account_id = a.account_id
        WHERE a.id = $1`,
      [id],
    )) as AutoRechargeAttemptRow[];
    return rows[0] ?? null;
  }

  async fail(manager: EntityManager, id: string, reason: string | null): Promise<FailOutcome> {
    const rows = (await manager.query(`SELECT out_status AS status FROM auto_recharge_fail($1, $2)`, [
      id,
      reason,
    ])) as Array<{ status: FailOutcome }>;
    return rows[0].status;
  }

  /** auto_recharge_succeed() of the attempt `id` of the account `accountId` (null: none). */
  async succeed(manager: EntityManager, id: string, accountId: string | null): Promise<SucceedOutcome> {
    const rows = (await manager.query(`SELECT auto_recharge_succeed($1, $2::bigint) AS status`, [
      id,
      accountId,
    ])) as Array<{ status: SucceedOutcome }>;
    return rows[0].status;
  }
}

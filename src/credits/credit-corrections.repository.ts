import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { PublicAccount } from '../auth/account-access.js';

/** What credits_correct() is asked: the record's account, its correction and its delta. */
export interface CorrectionMove {
  /** The account that paid the record: an organisation's (orgId) or the user's. */
  account: PublicAccount;
  usageRecordId: string;
  /** usage_corrections.id: the ledger lines name it. */
  correctionId: string;
  /** The streaming session the record settled (its hold is part of what the record was paid from). */
  sessionId: string | null;
  delta: number;
  /** The record's open shortfall (review) before the correction. */
  openShortfall: number;
  /** The member who used it, when an organisation paid. */
  memberId: string | null;
  /** The API key the record went through (its budget counts the correction). */
  apiKeyId: string | null;
  /** When the record counted against its caps (its key's period, its member's day). */
  recordAt: Date;
  createdBy: string;
  expiryDays: number;
  rateDefault: number | null;
  thresholds: number[];
}

/** What credits_correct() moved (docs/money.md "Corrections"). */
export interface CorrectionMoved {
  /** The change of the record's open shortfall (signed). */
  shortfall: number;
  /** Credits given back to live lots. */
  returned: number;
  /** Credits given back through a new `correction` allocation (dead lots, the record's debt). */
  regranted: number;
  /** Of the credits given back, those that repaid the account's debt. */
  repaid: number;
  /** Credits taken (delta > 0) from the balance, and as debt. */
  collected: number;
  debt: number;
}

interface MovedRow {
  out_shortfall: string;
  out_returned: string;
  out_regranted: string;
  out_repaid: string;
  out_collected: string;
  out_debt: string;
}

@Injectable()
export class CreditCorrectionsRepository {
  /** One call of the engine's credits_correct() on the account `accountId` (null: none, the engine's answer). */
  async correct(manager: EntityManager, accountId: string | null, move: CorrectionMove): Promise<CorrectionMoved> {
    const rows: MovedRow[] = await manager.query(
      `SELECT * FROM credits_correct($1::bigint, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        accountId,
        move.usageRecordId,
        move.correctionId,
        move.sessionId,
        move.delta,
        move.openShortfall,
        move.memberId,
        move.apiKeyId,
        move.recordAt,
        move.createdBy,
        move.expiryDays,
        move.rateDefault,
        move.thresholds,
      ],
    );
    const row = rows[0];
    return {
      shortfall: Number(row.out_shortfall),
      returned: Number(row.out_returned),
      regranted: Number(row.out_regranted),
      repaid: Number(row.out_repaid),
      collected: Number(row.out_collected),
      debt: Number(row.out_debt),
    };
  }
}

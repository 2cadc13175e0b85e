import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { accountView } from '../auth/account-views.js';
import { cursorTimestampSql } from '../common/http/pagination.js';
import type { TransferView } from './credit-views.js';

/** What credits_transfer() answers (migration 1732000033100). */
export interface TransferRow {
  out_status: 'ok' | 'insufficient' | 'no_source' | 'no_destination' | 'same_account';
  out_available: string;
  out_transfer_id: string | null;
}

interface TransferViewRow {
  id: string;
  credits: number;
  reason: string | null;
  created_by: string;
  created_at: Date;
  cursor_t: string;
  from_kind: 'user' | 'org';
  from_owner: string;
  to_kind: 'user' | 'org';
  to_owner: string;
  lots: { fromAllocationId: string; toAllocationId: string; credits: number; expiresAt: string }[];
}

function toTransfer(row: TransferViewRow): TransferView {
  return {
    id: row.id,
    from: accountView(row.from_kind, row.from_owner),
    to: accountView(row.to_kind, row.to_owner),
    credits: row.credits,
    reason: row.reason,
    lots: row.lots.map((l) => ({ ...l, expiresAt: new Date(l.expiresAt).toISOString() })),
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

/** A transfer with its accounts' owners and its lots in order, as one row. */
const TRANSFER_VIEW = `
  SELECT t.id, t.credits, t.reason, t.created_by, t.created_at, ${cursorTimestampSql('t.created_at')} AS cursor_t,
         fa.kind AS from_kind, COALESCE(fa.user_id, fa.org_id) AS from_owner,
         ta.kind AS to_kind, COALESCE(ta.user_id, ta.org_id) AS to_owner,
         (SELECT json_agg(json_build_object('fromAllocationId', x.from_allocation_id, 'toAllocationId', x.to_allocation_id,
                                            'credits', x.credits, 'expiresAt', x.expires_at) ORDER BY x.lot)
            FROM credit_transfer_lots x WHERE x.transfer_id = t.id) AS lots
    FROM credit_transfers t
    JOIN accounts fa ON fa.account_id = t.from_account_id
    JOIN accounts ta ON ta.account_id = t.to_account_id`;

/** The transfers' statements (docs/money.md "Transfers"): the engine's credits_transfer() and the reads. */
@Injectable()
export class CreditTransfersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** credits_transfer() between the two accounts' ids (null: no such account, the engine's answer). */
  async transfer(
    manager: EntityManager,
    input: { from: string | null; to: string | null; credits: number; reason: string | null; createdBy: string },
    thresholds: number[],
  ): Promise<TransferRow> {
    const rows: TransferRow[] = await manager.query(
      `SELECT out_status, out_available, out_transfer_id
         FROM credits_transfer($1::bigint, $2::bigint, $3::int, $4, $5, $6::int[])`,
      [input.from, input.to, input.credits, input.reason, input.createdBy, thresholds],
    );
    return rows[0];
  }

  async find(manager: EntityManager, id: string): Promise<TransferView | null> {
    const rows: TransferViewRow[] = await manager.query(`${TRANSFER_VIEW} WHERE t.id = $1`, [id]);
    return rows.length ? toTransfer(rows[0]) : null;
  }

  /**
   * The account's transfers, either way (`accountId` null: every transfer), newest first (ties: id);
   * limit + 1 rows for the page.
   */
  async list(query: {
    accountId: string | null;
    after: { t: string; id: string } | null;
    limit: number;
  }): Promise<(TransferView & { cursorT: string })[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.accountId !== null) {
      params.push(query.accountId);
      where.push(`(t.from_account_id = $1::bigint OR t.to_account_id = $1::bigint)`);
    }
    if (query.after) {
      params.push(query.after.t, query.after.id);
      where.push(`(t.created_at, t.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(query.limit + 1);
    const rows: TransferViewRow[] = await this.dataSource.query(
      `${TRANSFER_VIEW} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY t.created_at DESC, t.id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({ ...toTransfer(r), cursorT: r.cursor_t }));
  }
}

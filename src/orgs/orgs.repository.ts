import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { withAccountSql } from '../accounts/accounts.sql.js';
import type { OrgRole } from '../accounts/org-roles.js';
import { cursorTimestampSql } from '../common/http/pagination.js';
import { availableCreditsSql, debtSql, heldCreditsSql, spendableCreditsSql } from '../engine/credit-sql.js';

/** An organisation with its pool's money and its active members' count. */
export interface OrgRow {
  org_id: string;
  name: string;
  created_at: Date;
  created_t: string;
  member_count: string;
  total_credits: string;
  held_credits: string;
  debt: string;
  models: string[] | null;
  billing_currency: string | null;
}

/** A membership row as a change reads it (locked). */
export interface LockedMember {
  role: OrgRole;
  removed_at: Date | null;
}

/** A membership with what the pool could pay (its limit is the engine's: CreditAccountsService). */
export interface MemberRow {
  org_id: string;
  user_id: string;
  role: OrgRole;
  joined_at: Date;
  removed_at: Date | null;
  /** The pool's spendable credits (balance and overdraft). */
  pool: string;
}

/** An organisation's rows with its account (`oa`), and a membership's with its org's (`ma`). */
const ORGS = `orgs o ${withAccountSql('o.org_id', 'org', 'oa')}`;
const MEMBERS = `org_members m ${withAccountSql('m.org_id', 'org', 'ma')}`;
const ORG_ACCOUNT = 'oa.account_id';

const ORG_COLUMNS = `o.org_id, o.name, o.created_at, ${cursorTimestampSql('o.created_at')} AS created_t,
  (SELECT count(*) FROM org_members om WHERE om.org_id = o.org_id AND om.removed_at IS NULL)::bigint AS member_count,
  ${availableCreditsSql(ORG_ACCOUNT)} AS total_credits,
  ${heldCreditsSql(ORG_ACCOUNT)} AS held_credits,
  ${debtSql(ORG_ACCOUNT)} AS debt, o.models, oa.billing_currency`;

/** A membership as the member view shows it: with the pool's spendable credits (the credits module's rule). */
const MEMBER_COLUMNS = `m.org_id, m.user_id, m.role, m.joined_at, m.removed_at,
  ${spendableCreditsSql('ma.account_id')} AS pool`;

/** The organisation tables' SQL (orgs, org_members): the org routes' reads and membership writes. */
@Injectable()
export class OrgsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  get reader(): EntityManager {
    return this.dataSource.manager;
  }

  async findOrg(m: EntityManager, orgId: string): Promise<OrgRow | null> {
    const rows: OrgRow[] = await m.query(`SELECT ${ORG_COLUMNS} FROM ${ORGS} WHERE o.org_id = $1`, [orgId]);
    return rows[0] ?? null;
  }

  async orgExists(m: EntityManager, orgId: string): Promise<boolean> {
    const rows: unknown[] = await m.query(`SELECT 1 FROM orgs WHERE org_id = $1`, [orgId]);
    return rows.length > 0;
  }

  /** Orgs oldest first, matching `search` in id or name (case-insensitive), after the cursor. */
  async listOrgs(query: {
    search?: string;
    after: { t: string; id: string } | null;
    limit: number;
  }): Promise<OrgRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.search) {
      params.push(`%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(o.org_id ILIKE $${params.length} OR o.name ILIKE $${params.length})`);
    }
    if (query.after) {
      params.push(query.after.t, query.after.id);
      where.push(`(o.created_at, o.org_id) > ($${params.length - 1}::timestamptz, $${params.length}::varchar)`);
    }
    params.push(query.limit + 1);
    return this.dataSource.query(
      `SELECT ${ORG_COLUMNS} FROM ${ORGS} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY o.created_at, o.org_id LIMIT $${params.length}`,
      params,
    );
  }

  /** The user's active memberships, oldest first. */
  async memberships(userId: string): Promise<{ org_id: string; name: string; role: OrgRole }[]> {
    return this.dataSource.query(
      `SELECT m.org_id, o.name, m.role FROM org_members m JOIN orgs o ON o.org_id = m.org_id
        WHERE m.user_id = $1 AND m.removed_at IS NULL ORDER BY m.joined_at, m.org_id`,
      [userId],
    );
  }

  async findMember(m: EntityManager, orgId: string, userId: string): Promise<MemberRow | null> {
    const rows: MemberRow[] = await m.query(
      `SELECT ${MEMBER_COLUMNS} FROM ${MEMBERS} WHERE m.org_id = $1 AND m.user_id = $2`,
      [orgId, userId],
    );
    return rows[0] ?? null;
  }

  /** The membership row itself, locked for a change (null: never a member). */
  async lockMember(m: EntityManager, orgId: string, userId: string): Promise<LockedMember | null> {
    const rows: LockedMember[] = await m.query(
      `SELECT role, removed_at FROM org_members WHERE org_id = $1 AND user_id = $2 FOR NO KEY UPDATE`,
      [orgId, userId],
    );
    return rows[0] ?? null;
  }

  /** Active owners of the org other than `userId`. */
  async otherOwners(m: EntityManager, orgId: string, userId: string): Promise<number> {
    const rows: { n: number }[] = await m.query(
      `SELECT count(*)::int AS n FROM org_members
        WHERE org_id = $1 AND user_id <> $2 AND role = 'owner' AND removed_at IS NULL`,
      [orgId, userId],
    );
    return rows[0].n;
  }

  /** Members by user id, active ones only unless `includeRemoved`. */
  async listMembers(query: {
    orgId: string;
    includeRemoved: boolean;
    afterUserId: string | null;
    limit: number;
  }): Promise<MemberRow[]> {
    const params: unknown[] = [query.orgId];
    const where = ['m.org_id = $1'];
    if (!query.includeRemoved) where.push('m.removed_at IS NULL');
    if (query.afterUserId !== null) {
      params.push(query.afterUserId);
      where.push(`m.user_id > $${params.length}::varchar`);
    }
    params.push(query.limit + 1);
    return this.dataSource.query(
      `SELECT ${MEMBER_COLUMNS} FROM ${MEMBERS} WHERE ${where.join(' AND ')}
        ORDER BY m.user_id LIMIT $${params.length}`,
      params,
    );
  }
}

import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { OrgRole } from './org-roles.js';

/**
 * The writes of `orgs` and `org_members`, which this module owns (an organisation is an account, and
 * its memberships decide who may reach it). The orgs module holds the routes and the rules and calls
 * these inside its own transactions, through OrgRecordsService.
 */
@Injectable()
export class OrgRecordsRepository {
  /** Inserts the org (its trigger opens its account); false when the id is taken. */
  async insertOrg(m: EntityManager, org: { orgId: string; name: string; createdBy: string }): Promise<boolean> {
    const rows: unknown[] = await m.query(
      `INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO NOTHING RETURNING org_id`,
      [org.orgId, org.name, org.createdBy],
    );
    return rows.length > 0;
  }

  /** Locks the org's row: membership changes of one org serialise (the last owner stays); false: none. */
  async lockOrg(m: EntityManager, orgId: string): Promise<boolean> {
    const rows: unknown[] = await m.query(`SELECT 1 FROM orgs WHERE org_id = $1 FOR NO KEY UPDATE`, [orgId]);
    return rows.length > 0;
  }

  /** Sets the org's model list (null: every model); false when there is no such org. */
  async setModels(m: EntityManager, orgId: string, models: string[] | null): Promise<boolean> {
    const rows: unknown[] = await m.query(`UPDATE orgs SET models = $2 WHERE org_id = $1 RETURNING 1`, [orgId, models]);
    return rows.length > 0;
  }

  /**
   * Adds the member, or changes their role; a removed member comes back with a new `joined_at`. Their
   * limit, and what they spent, are the credits module's (CreditAccountsService).
   */
  async upsertMember(m: EntityManager, member: { orgId: string; userId: string; role: OrgRole }): Promise<void> {
    await m.query(
      `INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (org_id, user_id) DO UPDATE
         SET role = EXCLUDED.role,
             joined_at = CASE WHEN org_members.removed_at IS NULL THEN org_members.joined_at ELSE now() END,
             removed_at = NULL,
             updated_at = now()`,
      [member.orgId, member.userId, member.role],
    );
  }

  async removeMember(m: EntityManager, orgId: string, userId: string): Promise<void> {
    await m.query(`UPDATE org_members SET removed_at = now(), updated_at = now() WHERE org_id = $1 AND user_id = $2`, [
      orgId,
      userId,
    ]);
  }
}

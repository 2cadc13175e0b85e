import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Merge of org-metering (1732000032100, which gave credits_take a last p_member_id and
 * credits_take_events per-event kinds and members) and auto-recharge (1732000035100, which re-created
 * both with their former signatures): that left two overloads of each, and a call naming fewer
 * arguments than either is ambiguous. The former signatures go; the next migration gives the ones
 * left the merged text of their files.
 */
export class OrgMeteringAfterAutoRecharge1732000035800 implements MigrationInterface {
  name = 'OrgMeteringAfterAutoRecharge1732000035800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS public.credits_take(character varying, integer, character varying,
      character varying, character varying, uuid, character varying, uuid, integer, integer[], character varying)`);
    await q.query(`DROP FUNCTION IF EXISTS public.credits_take_events(character varying, uuid, integer, integer[],
      character varying[], integer[], uuid[], character varying)`);
  }

  async down(): Promise<void> {
    // The previous migration's down puts the functions back as they were.
  }
}

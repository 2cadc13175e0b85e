import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A re-rate's stored request (`pricing_rerates.request`, what a repeated `rerateId` is compared with
 * and a resumed re-rate reads) names whose records it corrects as `account`, the public account
 * (`{"userId": …}`, `{"orgId": …}`, or null for every account's), instead of a `userId` and an
 * `orgId` each null when not named. Up rewrites every stored request so; down writes both fields back.
 * The service reads a request still in the old shape (written by an instance of the version before,
 * while a deploy rolls) as the new one (src/rerates/rerates.repository.ts).
 */
export class RerateRequestAccount1732005100000 implements MigrationInterface {
  name = 'RerateRequestAccount1732005100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE pricing_rerates
         SET request = request - 'userId' - 'orgId' || jsonb_build_object('account',
               CASE WHEN request ->> 'orgId' IS NOT NULL THEN jsonb_build_object('orgId', request -> 'orgId')
                    WHEN request ->> 'userId' IS NOT NULL THEN jsonb_build_object('userId', request -> 'userId') END)
       WHERE NOT request ? 'account'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE pricing_rerates
         SET request = request - 'account' || jsonb_build_object('userId', request -> 'account' -> 'userId',
                                                                 'orgId', request -> 'account' -> 'orgId')
       WHERE request ? 'account'`);
  }
}

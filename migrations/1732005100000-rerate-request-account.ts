import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A re-rate's stored request (`pricing_rerates.request`, what a repeated `rerateId` is compared with
 * and a resumed re-rate reads) names whose records it corrects as `account`, the public account
 * (`{"userId": …}`, `{"orgId": …}`, or null for every account's). An expand step (docs/operations.md
 * "Migrations during a rolling deploy"): up adds `account` to every stored request and keeps its
 * `userId` and `orgId`, which the version before reads, and the service writes them too beside
 * `account` (src/rerates/rerates.repository.ts) until a later migration drops them; it reads a
 * request without `account` (written by an instance of the version before while the deploy rolls)
 * as the new one. Down drops `account`, keeping (or writing) both fields.
 */
export class RerateRequestAccount1732005100000 implements MigrationInterface {
  name = 'RerateRequestAccount1732005100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE pricing_rerates
         SET request = request || jsonb_build_object('account',
               CASE WHEN request ->> 'orgId' IS NOT NULL THEN jsonb_build_object('orgId', request -> 'orgId')
                    WHEN request ->> 'userId' IS NOT NULL THEN jsonb_build_object('userId', request -> 'userId') END)
       WHERE NOT request ? 'account'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE pricing_rerates
         SET request = jsonb_build_object('userId', request -> 'account' -> 'userId', 'orgId', request -> 'account' -> 'orgId')
                       || (request - 'account')
       WHERE request ? 'account'`);
  }
}

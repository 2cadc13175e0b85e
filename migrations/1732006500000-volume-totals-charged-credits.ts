import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Volume steps round once per request (docs/pricing.md "Volume steps"): a period total's `cost` is
 * from now on the credits its records were charged, net of give-backs and corrections, where it was
 * their exact stepped cost before. The take charged ceil(cost after) − ceil(cost before) and lowered
 * cost by whole credits, so ceil(cost) is what each period was charged: the totals start from it.
 * Down leaves the whole credits in place: the earlier functions price from them as well.
 */
export class VolumeTotalsChargedCredits1732006500000 implements MigrationInterface {
  name = 'VolumeTotalsChargedCredits1732006500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE credit_volume_totals SET cost = ceil(cost) WHERE cost <> ceil(cost)`);
  }

  async down(): Promise<void> {}
}

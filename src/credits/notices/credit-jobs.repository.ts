import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * The credits.expiring notices (credits_notice_expiring()): one statement over a batch, `FOR UPDATE
 * SKIP LOCKED`, so several instances can run it at once. (Expiry moves credits, so it is the engine's: credits_expire_due(),
 * through CreditsService.expireDue.)
 */
@Injectable()
export class CreditJobsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One batch of the credits.expiring notices at the lead times `hours`: allocations reaching a lead
   * time not yet considered are marked, and those with credits left get their event, in one statement. Rows a
   * movement or another instance holds are skipped (the next run gets them).
   */
  async noticeExpiringBatch(hours: number[], batch: number): Promise<{ processed: number; told: number }> {
    const rows: { processed: number; told: number }[] = await this.dataSource.query(
      `SELECT out_processed AS processed, out_told AS told FROM credits_notice_expiring($1::integer[], $2)`,
      [hours, batch],
    );
    return { processed: Number(rows[0].processed), told: Number(rows[0].told) };
  }
}

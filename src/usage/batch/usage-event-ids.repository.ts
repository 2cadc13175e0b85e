import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** usage_event_ids outside the batch take (whose statement claims ids through usage_events_claim()): cleanup. */
@Injectable()
export class UsageEventIdsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Deletes up to `batch` ids older than `days` days (oldest first). Rows another instance is deleting
   * are skipped, so several instances share the work instead of waiting on each other.
   */
  async deleteOlderThan(days: number, batch: number): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(
      `WITH old AS (
         SELECT owner, event_id FROM usage_event_ids
          WHERE created_at < now() - make_interval(days => $1)
          ORDER BY created_at LIMIT $2
            FOR UPDATE SKIP LOCKED),
       gone AS (
         DELETE FROM usage_event_ids u USING old WHERE u.owner = old.owner AND u.event_id = old.event_id RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [days, batch],
    );
    return Number(rows[0].n);
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { ExportConnections } from '../database/export-connections.js';

/** What a connection pool holds right now (pg's Pool counters). */
export interface PoolStats {
  pool: 'primary' | 'replica' | 'export';
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options: { max?: number };
}

/** The gauges read at scrape time: two cheap counts and the pools' counters. */
@Injectable()
export class MetricsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly exportConnections: ExportConnections,
  ) {}

  /**
   * Active streaming sessions and pending webhook deliveries, in one round trip when the webhook
   * table exists; 0 pending while it does not (the table arrives with the webhooks feature).
   */
  async workload(): Promise<{ activeSessions: number; webhookPending: number }> {
    const [row]: { active: string; webhooks: boolean }[] = await this.dataSource.query(
      `SELECT (SELECT count(*) FROM streaming_sessions WHERE status = 'active') AS active,
              to_regclass('webhook_deliveries') IS NOT NULL AS webhooks`,
    );
    let webhookPending = 0;
    if (row.webhooks) {
      const [pending]: { n: string }[] = await this.dataSource.query(
        `SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'`,
      );
      webhookPending = Number(pending.n);
    }
    return { activeSessions: Number(row.active), webhookPending };
  }

  /** The primary's pool, with DB_READ_URL the replica's, and the CSV exports' once one ran. */
  pools(): PoolStats[] {
    const driver = this.dataSource.driver as unknown as { master?: PgPool; slaves?: PgPool[] };
    const stats = (pool: PoolStats['pool'], p: PgPool): PoolStats => ({
      pool,
      max: p.options.max ?? 0,
      total: p.totalCount,
      idle: p.idleCount,
      waiting: p.waitingCount,
    });
    return [
      ...(driver.master ? [stats('primary', driver.master)] : []),
      ...(driver.slaves ?? []).map((p) => stats('replica', p)),
      ...[this.exportConnections.stats()].flatMap((p) => (p ? [{ pool: 'export' as const, ...p }] : [])),
    ];
  }
}

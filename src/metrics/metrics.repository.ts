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

/** The pools' counters, read at scrape time. */
@Injectable()
export class MetricsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly exportConnections: ExportConnections,
  ) {}

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

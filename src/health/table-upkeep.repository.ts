import pg from 'pg';

import { lowerBackendPriority } from '../database/connections/backend-priority.js';

/** A table the upkeep takes: its quoted name, and whether it is vacuumed (then analyzed) or only analyzed. */
export interface DueTable {
  name: string;
  vacuum: boolean;
}

/**
 * The tables of the service's schema that autovacuum's own rule would take now, with the server's
 * thresholds or, where a table sets its own (storage parameters, as autovacuum reads them), the
 * table's: dead rows (or rows inserted since the last vacuum, unless its
 * `autovacuum_vacuum_insert_threshold` is -1) above threshold + scale factor × rows, to vacuum; rows
 * changed since the last analyze above theirs, to analyze. A table never analyzed counts as empty, so
 * its first rows are analyzed soon. `autovacuum_enabled` is the server's daemon's switch, not read:
 * TABLE_UPKEEP is the upkeep's.
 */
const DUE_TABLES_SQL = `
  SELECT name, to_vacuum AS vacuum FROM (
    SELECT format('%I.%I', s.schemaname, s.relname) AS name,
           (s.n_dead_tup > a.vacuum_threshold + a.vacuum_scale * a.tuples
            OR (a.insert_threshold >= 0
                AND s.n_ins_since_vacuum > a.insert_threshold + a.insert_scale * a.tuples)) AS to_vacuum,
           s.n_mod_since_analyze > a.analyze_threshold + a.analyze_scale * a.tuples AS to_analyze
      FROM pg_stat_user_tables s
     CROSS JOIN LATERAL (
       SELECT greatest(c.reltuples, 0)::numeric AS tuples,
              coalesce(o.vacuum_threshold, current_setting('autovacuum_vacuum_threshold')::numeric) AS vacuum_threshold,
              coalesce(o.vacuum_scale, current_setting('autovacuum_vacuum_scale_factor')::numeric) AS vacuum_scale,
              coalesce(o.insert_threshold, current_setting('autovacuum_vacuum_insert_threshold')::numeric)
                AS insert_threshold,
              coalesce(o.insert_scale, current_setting('autovacuum_vacuum_insert_scale_factor')::numeric)
                AS insert_scale,
              coalesce(o.analyze_threshold, current_setting('autovacuum_analyze_threshold')::numeric)
                AS analyze_threshold,
              coalesce(o.analyze_scale, current_setting('autovacuum_analyze_scale_factor')::numeric) AS analyze_scale
         FROM pg_class c
        CROSS JOIN LATERAL (
          SELECT max(v) FILTER (WHERE k = 'autovacuum_vacuum_threshold')::numeric AS vacuum_threshold,
                 max(v) FILTER (WHERE k = 'autovacuum_vacuum_scale_factor')::numeric AS vacuum_scale,
                 max(v) FILTER (WHERE k = 'autovacuum_vacuum_insert_threshold')::numeric AS insert_threshold,
                 max(v) FILTER (WHERE k = 'autovacuum_vacuum_insert_scale_factor')::numeric AS insert_scale,
                 max(v) FILTER (WHERE k = 'autovacuum_analyze_threshold')::numeric AS analyze_threshold,
                 max(v) FILTER (WHERE k = 'autovacuum_analyze_scale_factor')::numeric AS analyze_scale
            FROM pg_options_to_table(c.reloptions) AS t(k, v)) o
        WHERE c.oid = s.relid) a
     WHERE s.schemaname = current_schema()) t
   WHERE to_vacuum OR to_analyze
   ORDER BY name`;

/**
 * The upkeep's own session, apart from the pool: its advisory lock, priority and cost delay end with
 * it (`close()`).
 */
export class TableUpkeepSession {
  private constructor(private readonly client: pg.Client) {}

  static async open(url: string): Promise<TableUpkeepSession> {
    const client = new pg.Client({ connectionString: url, application_name: 'accounting-upkeep' });
    // A session ended under it (a restart, a dropped database) fails the statement running, which the
    // job's run reports; unheard, the client's own 'error' would end the process.
    client.on('error', () => undefined);
    await client.connect();
    return new TableUpkeepSession(client);
  }

  /** Whether the server's autovacuum is on, and whether this session holds the upkeep (one at a time). */
  async claim(): Promise<{ autovacuum: boolean; mine: boolean }> {
    const { rows } = await this.client.query<{ autovacuum: boolean; mine: boolean }>(
      `SELECT current_setting('autovacuum')::boolean AS autovacuum,
              pg_try_advisory_lock(hashtextextended('table-upkeep', 0)) AS mine`,
    );
    return rows[0];
  }

  /** The session's backend at `nice` where it may be changed, and at autovacuum's cost delay. */
  async lowerPriority(nice: number): Promise<void> {
    await lowerBackendPriority(this.client, nice);
    // Autovacuum's own delay, or vacuum_cost_delay where it says -1.
    await this.client.query(
      `SELECT set_config('vacuum_cost_delay', current_setting('autovacuum_vacuum_cost_delay'), false)
        WHERE current_setting('autovacuum_vacuum_cost_delay') <> '-1'`,
    );
  }

  async dueTables(): Promise<DueTable[]> {
    return (await this.client.query<DueTable>(DUE_TABLES_SQL)).rows;
  }

  /** A table locked by another session is skipped (SKIP_LOCKED): the next pass takes it. */
  async keep(table: DueTable): Promise<void> {
    await this.client.query(
      `${table.vacuum ? 'VACUUM (ANALYZE, SKIP_LOCKED)' : 'ANALYZE (SKIP_LOCKED)'} ${table.name}`,
    );
  }

  /** Ends the session, and with it its lock and settings. */
  async close(): Promise<void> {
    await this.client.end();
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

import type { AccountView } from '../auth/account-views.js';
import type { RerateStatus } from '../pricing/dto/rerates.dto.js';
import { recordPricingSql, rulesHaveVolume, volumePricedSql } from '../usage/simulations/simulations.js';

/** A re-rate as stored (bigints as text). */
export interface RerateRow {
  id: string;
  rerate_id: string;
  request: RerateRequest;
  status: RerateStatus;
  records: string;
  corrected: string;
  delta: string;
  created_by: string;
  started_at: Date;
  finished_at: Date | null;
  last_error: string | null;
}

/** What a re-rate was asked, as checked: the range, the rules as simulations take them, whose records. */
export interface RerateRequest {
  from: string;
  to: string;
  /** The simulated rules as the `sim` relation reads them (simulationRulesJson()). */
  rules: unknown[];
  /** The account whose records it corrects, as the body named it (the stored body's); null: every account's. */
  account: AccountView | null;
  reason: string;
}

/** One chunk of a re-rate's records: how many were read, where the next starts, and those that differ. */
export interface RerateChunk {
  examined: number;
  lastAt: string | null;
  lastId: string | null;
  /** `[recordId, credits under the rules]` of each record whose credits differ from its net. */
  changes: [string, number][];
}

/** Which of a re-rate's records a lane reads: those whose paying account's id is `lane` modulo `lanes`. */
export interface RerateLane {
  lane: number;
  lanes: number;
}

/** A re-rate's lane locked for a chunk: what the chunk needs, and the lane's cursor at full precision. */
export interface LockedRerate {
  rerateId: string;
  createdBy: string;
  status: RerateStatus;
  request: RerateRequest;
  lanes: number;
  done: boolean;
  at: string;
  cursorId: string;
}

/**
 * `pricing_rerates.request` as a RerateRequest. A stored request names its account twice: as `account`
 * and, for the version before migration 1732005100000 while a deploy rolls, as `userId` and `orgId`
 * (written beside it, storedRequestSql()); a row written by an instance of that version has only the
 * two, and is read here in the same shape.
 */
const requestSql = (request: string) => `(CASE WHEN ${request} ? 'account' THEN ${request}
  ELSE ${request} || jsonb_build_object('account',
    CASE WHEN ${request} ->> 'orgId' IS NOT NULL THEN jsonb_build_object('orgId', ${request} -> 'orgId')
         WHEN ${request} ->> 'userId' IS NOT NULL THEN jsonb_build_object('userId', ${request} -> 'userId') END) END)
  - 'userId' - 'orgId'`;

/** A RerateRequest as stored: with `userId` and `orgId` from its account, as the version before reads them. */
const storedRequestSql = (
  request: string,
) => `${request} || jsonb_build_object('userId', ${request} -> 'account' -> 'userId',
  'orgId', ${request} -> 'account' -> 'orgId')`;

const COLUMNS = `id, rerate_id, ${requestSql('request')} AS request, status, records::text, corrected::text, delta::text,
                 created_by, started_at, finished_at, last_error`;

/** Before the first record: (occurred_at, id) greater than this is every record. */
const START = { at: '-infinity', id: '00000000-0000-0000-0000-000000000000' };

/** pricing_rerates, and the read of a chunk of records with their credits under a re-rate's rules. */
@Injectable()
export class ReratesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A new running re-rate with its `lanes` lanes; null when its rerateId exists (the caller reads that one). */
  async insert(manager: EntityManager, rerateId: string, request: RerateRequest, createdBy: string, lanes: number) {
    const rows: RerateRow[] = await manager.query(
      `WITH r AS (
         INSERT INTO pricing_rerates (rerate_id, request, created_by, started_at, lanes)
         VALUES ($1, ${storedRequestSql('$2::jsonb')}, $3, clock_timestamp(), $4)
         ON CONFLICT (rerate_id) DO NOTHING
         RETURNING ${COLUMNS}),
       l AS (
         INSERT INTO pricing_rerate_lanes (rerate_id, lane)
         SELECT r.id, g FROM r, generate_series(0, $4::int - 1) g)
       SELECT * FROM r`,
      [rerateId, JSON.stringify(request), createdBy, lanes],
    );
    return rows[0] ?? null;
  }

  async findByRerateId(rerateId: string): Promise<RerateRow | null> {
    const rows: RerateRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM pricing_rerates WHERE rerate_id = $1`,
      [rerateId],
    );
    return rows[0] ?? null;
  }

  async find(id: string): Promise<RerateRow | null> {
    const rows: RerateRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM pricing_rerates WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Newest first (ids are time-ordered), keyset-paged on id. */
  list(afterId: string | null, limit: number): Promise<RerateRow[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM pricing_rerates
        WHERE $1::uuid IS NULL OR id < $1::uuid
        ORDER BY id DESC LIMIT $2`,
      [afterId, limit],
    );
  }

  /** The running re-rates, oldest first: what an instance resumes. */
  async running(): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM pricing_rerates WHERE status = 'running' ORDER BY started_at`,
    );
    return rows.map((r) => r.id);
  }

  /** A failed re-rate sent again: running again, from its cursor. */
  async restart(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE pricing_rerates SET status = 'running', last_error = NULL, finished_at = NULL
        WHERE id = $1 AND status = 'failed'`,
      [id],
    );
  }

  /**
   * The lease of one re-rate: a session-level advisory lock on the runner's own connection, so one
   * instance runs it and a killed one lets go of it with its connection.
   */
  async tryLease(client: pg.Client, id: string): Promise<boolean> {
    const { rows } = await client.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_lock(hashtextextended('pricing_rerate:' || $1, 0)) AS ok`,
      [id],
    );
    return rows[0].ok;
  }

  /** The lanes of a re-rate that have not reached the end of its range, with how many it has. */
  async openLanes(id: string): Promise<RerateLane[]> {
    const rows: RerateLane[] = await this.dataSource.query(
      `SELECT l.lane, r.lanes FROM pricing_rerate_lanes l JOIN pricing_rerates r ON r.id = l.rerate_id
        WHERE l.rerate_id = $1 AND NOT l.done ORDER BY l.lane`,
      [id],
    );
    return rows;
  }

  /**
   * The re-rate's lane locked for this chunk's transaction: the re-rate's status and request, the
   * lane's cursor (at full precision). The lane's row only: the other lanes' chunks run meanwhile.
   */
  async lockForChunk(manager: EntityManager, id: string, lane: number): Promise<LockedRerate | null> {
    const rows: (Omit<LockedRerate, 'at' | 'cursorId'> & { at: string | null; cursor_id: string | null })[] =
      await manager.query(
        `SELECT r.rerate_id AS "rerateId", r.created_by AS "createdBy", r.status, ${requestSql('r.request')} AS request,
                r.lanes, l.done,
                l.cursor_at::text AS at, l.cursor_id
           FROM pricing_rerate_lanes l JOIN pricing_rerates r ON r.id = l.rerate_id
          WHERE l.rerate_id = $1 AND l.lane = $2
            FOR UPDATE OF l`,
        [id, lane],
      );
    const row = rows[0];
    if (!row) return null;
    const { cursor_id: cursorId, at, ...rest } = row;
    return { ...rest, at: at ?? START.at, cursorId: cursorId ?? START.id };
  }

  /**
   * The next `limit` records of the range after the cursor, by (occurred_at, id), each priced by the
   * simulation's one rule (recordPricingSql(), at volume steps volumePricedSql()); ONE statement, one
   * row back: the count, the last record's key and only the records whose credits under the rules
   * differ from what they cost now. A re-rate of one account reads the records that account paid
   * (`accountId`, the one the runner read for the request's owner; null: it has none, so none).
   * Of several lanes, only the lane's records: those whose paying account's id (the record's
   * `account_id`) is the lane modulo the lanes, so no two lanes correct records of one account.
   */
  async chunk(
    manager: EntityManager,
    request: RerateRequest,
    accountId: string | null,
    cursor: { at: string; id: string },
    limit: number,
    lane: RerateLane,
  ): Promise<RerateChunk> {
    const volume = rulesHaveVolume(request.rules);
    const priced = recordPricingSql('$1', volume);
    const params: unknown[] = [JSON.stringify(request.rules), request.from, request.to, cursor.at, cursor.id, limit];
    let account = '';
    if (request.account !== null) {
      // The records the account paid (null: the owner named has no account, so none).
      params.push(accountId);
      account = `AND u.account_id = $7::bigint`;
    }
    if (lane.lanes > 1) {
      // "Not any other lane" rather than "= lane": the same records (an account id is never negative), but
      // PostgreSQL estimates `expression = value` to keep 0.5 % of the rows and then planned the chunk for
      // 50 records (a join to every account price per record, 10 times slower); `<> ALL` it estimates
      // to keep most of them, as the range and the cursor do.
      const others = Array.from({ length: lane.lanes }, (_, k) => k).filter((k) => k !== lane.lane);
      params.push(lane.lanes, others);
      const n = params.length;
      account += ` AND mod(u.account_id, $${n - 1}::int) <> ALL ($${n}::int[])`;
    }
    const range = `u.occurred_at >= $2::timestamptz AND u.occurred_at < $3::timestamptz
              AND (u.occurred_at, u.id) > ($4::timestamptz, $5::uuid) ${account}`;
    // On rules with volume steps a record's price depends on the records of its period before it: the
    // chunk's records are picked first, then their periods walked up to the chunk's last record.
    const chunk = volume
      ? `picked AS MATERIALIZED (
           SELECT u.* FROM usage_records u WHERE ${range} ORDER BY u.occurred_at, u.id LIMIT $6),
         ${volumePricedSql('$1', 'SELECT * FROM picked', '(u.occurred_at, u.id) <= (SELECT p.occurred_at, p.id FROM picked p ORDER BY p.occurred_at DESC, p.id DESC LIMIT 1)')},
         chunk AS MATERIALIZED (
           SELECT u.id, u.occurred_at, ${priced.actual} AS actual, ${priced.simulated} AS simulated, ${priced.back} AS back
             FROM ${priced.from}
            WHERE u.id IN (SELECT id FROM picked))`
      : `chunk AS MATERIALIZED (
           SELECT u.id, u.occurred_at, ${priced.actual} AS actual, ${priced.simulated} AS simulated, ${priced.back} AS back
             FROM ${priced.from}
            WHERE ${range}
            ORDER BY u.occurred_at, u.id
            LIMIT $6)`;
    // A record's credits are set to its price plus what volume steps gave back on it (kept apart as
    // its give-back's allocation): its price net of the give-back is then its simulated price.
    const rows: { examined: number; last_at: string | null; last_id: string | null; changes: [string, number][] }[] =
      await manager.query(
        `WITH ${chunk}
         SELECT (SELECT count(*) FROM chunk)::int AS examined, l.occurred_at::text AS last_at, l.id AS last_id,
                COALESCE((SELECT json_agg(json_build_array(c.id, c.simulated + c.back) ORDER BY c.occurred_at, c.id)
                            FROM chunk c WHERE c.simulated <> c.actual), '[]'::json) AS changes
           FROM (SELECT 1) one
           LEFT JOIN LATERAL (SELECT occurred_at, id FROM chunk ORDER BY occurred_at DESC, id DESC LIMIT 1) l ON true`,
        params,
      );
    const row = rows[0];
    return {
      examined: row.examined,
      lastAt: row.last_at,
      lastId: row.last_id,
      changes: row.changes.map(([id, credits]) => [id, Number(credits)]),
    };
  }

  /**
   * The chunk's progress, in its transaction: the lane's cursor (`done`: it reached the end) and the
   * re-rate's counts. The re-rate's row is locked from here to the commit only, so the lanes' chunks
   * wait for each other no longer than that.
   */
  async advance(
    manager: EntityManager,
    id: string,
    lane: number,
    step: { at: string | null; cursorId: string | null; examined: number; corrected: number; delta: number },
    done: boolean,
  ): Promise<void> {
    await manager.query(
      `WITH l AS (
         UPDATE pricing_rerate_lanes
            SET cursor_at = COALESCE($3::timestamptz, cursor_at), cursor_id = COALESCE($4::uuid, cursor_id), done = $8
          WHERE rerate_id = $1 AND lane = $2)
       UPDATE pricing_rerates SET records = records + $5, corrected = corrected + $6, delta = delta + $7
        WHERE id = $1`,
      [id, lane, step.at, step.cursorId, step.examined, step.corrected, step.delta, done],
    );
  }

  /**
   * The re-rate completed once every lane reached the end, in the caller's transaction; null when it
   * is not running or a lane has records left (or another call completed it).
   */
  async complete(manager: EntityManager, id: string): Promise<RerateRow | null> {
    // In a WITH: TypeORM answers a bare UPDATE … RETURNING with [rows, count], a SELECT with its rows.
    const rows: RerateRow[] = await manager.query(
      `WITH w AS (
         UPDATE pricing_rerates SET status = 'completed', finished_at = clock_timestamp()
          WHERE id = $1 AND status = 'running'
            AND NOT EXISTS (SELECT 1 FROM pricing_rerate_lanes l WHERE l.rerate_id = $1 AND NOT l.done)
          RETURNING ${COLUMNS})
       SELECT * FROM w`,
      [id],
    );
    return rows[0] ?? null;
  }

  async fail(id: string, message: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE pricing_rerates SET status = 'failed', last_error = $2, finished_at = clock_timestamp()
        WHERE id = $1 AND status = 'running'`,
      [id, message.slice(0, 2000)],
    );
  }
}

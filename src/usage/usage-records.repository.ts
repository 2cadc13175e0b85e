import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { billedUser, payingOrgOf } from '../accounts/account-ref.js';
import { namesScopes } from '../common/validation/budget-scopes.js';
import { queryReplica } from '../database/connections/replica-reads.js';
import { ExportConnections } from '../database/export-connections.js';
import { shiftParams, type SqlPart } from '../database/statement-parts.js';
import type { BatchTakeStatement, GivenCharges } from '../engine/credits.service.js';
import type { StatementKey } from '../idempotency/statement-key.js';
import { TOKEN_KINDS, tokenColumn, tokenField } from '../pricing/token-kinds.js';
import type { UsageRecordResponseDto } from './dto/record-usage.dto.js';
import type { UsageRecordViewDto } from './dto/record-view.dto.js';
import { answered, answerTemplate, type CreateUsageRecordInput, RECORD_ANSWER_COLUMNS } from './usage-record-rows.js';

export {
  answered,
  type BillingStatus,
  type CreateUsageRecordInput,
  insertedRecord,
  type InsertedRecordSqlRow,
  RECORD_ANSWER_COLUMNS,
  type ReviewStatus,
} from './usage-record-rows.js';
import {
  ANSWERED_RECORDS,
  BATCH_PARTS,
  KEYED_PARTS,
  KEYED_UNCLAIMED_PARTS,
  RECORD_ANSWER,
  UNCLAIMED_PARTS,
} from './record-batch-parts.js';
import { type KnownRecord, recordInsertSql, type RecordInStatement } from './record-in-statement.js';
import { recordNetFigure } from './record-net.js';
import { filterSql, type RecordsFilter } from './records-filter.js';

export type { KnownRecord, RecordInStatement } from './record-in-statement.js';
export { RECORD_INPUT_COLUMNS, recordInput } from './record-in-statement.js';
export type { RecordsFilter } from './records-filter.js';

/** usage_records: its statements (the insert's input and the answer's mappers: usage-record-rows.ts). */

/** A server-side cursor in its own read-only snapshot. */
export interface RecordsCursor {
  /** The next rows, as their answers but for `scopes` (null when none; the CSV has no such column). */
  fetch(n: number): Promise<Omit<UsageRecordResponseDto, 'scopes'>[]>;
  /** Ends the snapshot after the last row was read. */
  commit(): Promise<void>;
  /** Rolls back unless committed and returns the connection; safe to call more than once. */
  close(): Promise<void>;
}

/** How many of a record's corrections its view lists (the last ones). */
export const RECORD_VIEW_CORRECTIONS = 10;

/**
 * A record's net credits and its corrections, after RECORD_ANSWER_COLUMNS, as the view's fields: its net
 * (usage_record_net(): its credits, what its corrections moved, and the shortfall its review still has
 * open); its last RECORD_VIEW_CORRECTIONS corrections, oldest of them first, and how many it has (a page
 * stays small whatever they number).
 */
const CORRECTED_COLUMNS = `${recordNetFigure('usage_records', 'net_credits')} AS "netCredits",
     COALESCE((SELECT json_agg(json_build_object('id', c.id, 'correctionId', c.correction_id, 'delta', c.delta,
                                                 'createdAt', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                               ORDER BY c.created_at, c.id)
                 FROM (SELECT * FROM usage_corrections c WHERE c.record_id = usage_records.id
                        ORDER BY c.created_at DESC, c.id DESC LIMIT ${RECORD_VIEW_CORRECTIONS}) c), '[]') AS corrections,
     ${recordNetFigure('usage_records', 'correction_count')} AS "correctionCount"`;

/** The order of the pages and exports: newest first, by when written (the column, not the answer's string). */
const NEWEST_FIRST = `ORDER BY usage_records."timestamp" DESC, usage_records.id DESC`;

/** A record of a list: its view, and the key of its keyset cursor (its "timestamp" in microseconds). */
export type ListedRecord = UsageRecordViewDto & { ts_key?: string };

/** byModel key: the model, or the operation for chat records without one (null: not counted). */
export const MODEL_KEY_SQL = `COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END)`;

/**
 * The columns recordParams fills, with their types: the record's own, then one per token kind, where the counts
 * came from and who wrote it. A new column is one entry here and its value in recordParams; the placeholders follow.
 */
const INSERTED: [column: string, type: string][] = [
  ['id', 'uuid'],
  ['user_id', 'varchar'],
  ['service', 'varchar'],
  ['operation', 'varchar'],
  ['credits', 'int'],
  ['model_id', 'varchar'],
  ['tokens', 'int'],
  ['metadata', 'jsonb'],
  ['pricing_rule_id', 'uuid'],
  ['provider_cost', 'numeric'],
  ['billing_status', 'varchar'],
  ['shortfall', 'int'],
  ['review_status', 'varchar'],
  ...TOKEN_KINDS.map((kind): [string, string] => [tokenColumn(kind), 'int']),
  ['usage_source', 'varchar'],
  ['termination', 'varchar'],
  ['provider_usage', 'jsonb'],
  ['api_key_id', 'uuid'],
  ['actor_id', 'varchar'],
  ['org_id', 'varchar'],
  ['credits_named', 'boolean'],
  ['request_id', 'varchar'],
  ['account_price_id', 'uuid'],
  ['service_tier', 'varchar'],
  ['units', 'jsonb'],
];
const INSERT_COLUMNS = INSERTED.map(([column]) => column).join(', ');

/** The columns a batch event sends as they are (when not null), each with its input field. */
const EVENT_FIELDS: [string, keyof CreateUsageRecordInput][] = [
  ['service', 'service'],
  ['operation', 'operation'],
  ['credits', 'credits'],
  ['model_id', 'modelId'],
  ['tokens', 'tokens'],
  ...TOKEN_KINDS.map((kind): [string, keyof CreateUsageRecordInput] => [tokenColumn(kind), tokenField(kind)]),
  ['metadata', 'metadata'],
  ['pricing_rule_id', 'pricingRuleId'],
  ['provider_cost', 'providerCost'],
  ['provider_usage', 'providerUsage'],
  ['api_key_id', 'apiKeyId'],
  ['actor_id', 'actorId'],
  ['request_id', 'requestId'],
  ['account_price_id', 'accountPriceId'],
  ['service_tier', 'serviceTier'],
  ['units', 'units'],
  ['volume', 'volume'],
  ['occurred_at', 'occurredAt'],
];
const KINDS = TOKEN_KINDS.length;
const ONE_ID_SCOPES = ['project', 'run', 'session'] as const;

/** The parameters insertInStatement knows beforehand: id, service, tokens, metadata, one per kind, the source, the dimensions. */
const KNOWN_PARAMS = 4 + KINDS + 5;

@Injectable()
export class UsageRecordsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly exportConnections: ExportConnections,
  ) {}

  /**
   * A record's INSERT inside another module's statement (a streaming settlement, through
   * CreditsService.settleSession): what is known beforehand as parameters, the rest as that
   * statement's SQL. A shortfall opens a review (needs_review, review open), as recordParams does.
   * A settlement is priced from tokens: it names no credits and is no audit entry.
   */
  insertInStatement(known: KnownRecord, sql: RecordInStatement): SqlPart {
    const param = (n: number, type: string) => `$${n}::${type}`;
    return {
      sql: recordInsertSql(
        INSERT_COLUMNS,
        {
          id: param(1, 'uuid'),
          service: param(2, 'varchar'),
          tokens: param(3, 'int'),
          metadata: `${param(4, 'jsonb')} || ${shiftParams(sql.metadata.sql, KNOWN_PARAMS)}`,
          kinds: TOKEN_KINDS.map((_, i) => param(5 + i, 'int')),
          usageSource: param(5 + KINDS, 'varchar'),
          termination: param(6 + KINDS, 'varchar'),
          providerUsage: param(7 + KINDS, 'jsonb'),
          serviceTier: param(8 + KINDS, 'varchar'),
          units: param(9 + KINDS, 'jsonb'),
        },
        sql,
      ),
      params: [
        known.id,
        known.service,
        known.tokens,
        JSON.stringify(known.metadata),
        ...TOKEN_KINDS.map((kind) => known[tokenField(kind)]),
        known.usageSource,
        known.termination,
        known.providerUsage ? JSON.stringify(known.providerUsage) : null,
        known.serviceTier,
        known.units ? JSON.stringify(known.units) : null,
        ...sql.metadata.params,
      ],
    };
  }

  /**
   * The records' INSERT inside another module's statement of many items (a statement of settlements
   * that arrive together): as insertInStatement, what each record knows beforehand read from the
   * columns of its item's input row `i` (RECORD_INPUT_COLUMNS, given by recordInput()), the rest from
   * that statement's SQL (`sql.metadata` without parameters). One row per record; it answers
   * `inserted_record_id`.
   */
  insertManyInStatement(sql: RecordInStatement): string {
    return recordInsertSql(
      INSERT_COLUMNS,
      {
        id: 'i.record_id',
        service: 'i.record_service',
        tokens: 'i.record_tokens',
        metadata: `i.record_metadata || ${sql.metadata.sql}`,
        kinds: TOKEN_KINDS.map((kind) => `i.record_${tokenColumn(kind)}`),
        usageSource: 'i.record_usage_source',
        termination: 'i.record_termination',
        providerUsage: 'i.record_provider_usage',
        serviceTier: 'i.record_service_tier',
        units: 'i.record_units',
      },
      sql,
    ).replace(/RETURNING id AS usage_record_id$/, 'RETURNING id AS inserted_record_id');
  }

  /**
   * The usage module's parts of a batch take (CreditsService.debitAndInsertMany): each event's id
   * claimed in `owner`'s namespace (usage_events_claim(); null: each event's own `owner`, records of
   * many writers that arrive together, or no event names one), what each new
   * event charges, and, after the take, the records of the events it let through inserted and the
   * refused events' ids given back (usage_events_release()). `createdBy`: who wrote the events, one
   * writer for all or one per event.
   */
  batchParts(
    owner: string | null,
    items: {
      eventId: string | null;
      owner?: string;
      input: CreateUsageRecordInput & { id: string };
      /** Its Idempotency-Key (KEYED_PARTS): the event carries its answer's template beside it. */
      idem?: StatementKey;
    }[],
    extras: { label: string; answer?: boolean; createdBy: string | string[] },
  ): BatchTakeStatement {
    // Sent as JSON: an absent column is NULL to jsonb_populate_recordset, so nulls are left out,
    // which keeps the payload PostgreSQL parses small. Built field by field from a list made once: a
    // batch builds a thousand of these, and an object literal of every column spread with the token
    // kinds' was a tenth of the batch's Node CPU, with its garbage.
    const events = items.map(({ eventId, owner: eventOwner, input, idem }) => {
      const event: Record<string, unknown> = { id: input.id, user_id: billedUser(input.account) };
      const orgId = payingOrgOf(input.account);
      if (orgId !== null) event.org_id = orgId;
      if (eventId !== null) {
        event.event_id = eventId;
        if (owner === null) event.owner = eventOwner;
      }
      for (const [column, field] of EVENT_FIELDS) {
        const value = input[field];
        if (value !== undefined && value !== null) event[column] = value;
      }
      // Omitted for the common `reported` (the INSERT defaults it), and credits_named when false.
      if (input.usageSource !== undefined && input.usageSource !== 'reported') event.usage_source = input.usageSource;
      if (input.creditsNamed) event.credits_named = true;
      // The template beside the key: the claim reads each event's key several times, and the
      // template only once, in the answer stored.
      if (idem) {
        event.idem = idem;
        event.answer = answerTemplate(input);
      }
      // The budget scopes: for the take (`scopes`) and the record's columns, those named only.
      if (namesScopes(input.scopes)) {
        const scopes = input.scopes;
        event.scopes = scopes;
        for (const kind of ONE_ID_SCOPES) if (scopes[kind] != null) event[`scope_${kind}`] = scopes[kind];
        if (scopes.tag?.length) event.scope_tags = scopes.tag;
      }
      return event;
    });
    const parts = partsOf(items);
    return {
      amounts: items.map(({ input }) => input.credits),
      accountIds: items.map(({ input }) => input.accountId ?? null),
      createdBy: typeof extras.createdBy === 'string' ? items.map(() => extras.createdBy as string) : extras.createdBy,
      input: { sql: `SELECT $1::varchar AS owner, $2::jsonb AS events`, params: [owner, JSON.stringify(events)] },
      ...BATCH_PARTS,
      ...parts,
      // Nothing claimed (UNCLAIMED_PARTS): the take's arrays from the events as sent, as `charges` reads them.
      given: parts === UNCLAIMED_PARTS ? givenCharges(events) : undefined,
      records: extras.answer ? ANSWERED_RECORDS : BATCH_PARTS.records,
      label: extras.label,
      answer: extras.answer ? RECORD_ANSWER : undefined,
    };
  }

  async find(manager: EntityManager, id: string): Promise<UsageRecordResponseDto | null> {
    const rows: UsageRecordResponseDto[] = await manager.query(
      `SELECT ${RECORD_ANSWER_COLUMNS} FROM usage_records WHERE id = $1`,
      [id],
    );
    return rows[0] ? answered(rows[0]) : null;
  }

  /**
   * Matching records newest first, keyset-paged on ("timestamp", id); from the replica when there is
   * one. Each its view, with its net credits and its corrections (docs/usage.md "Corrections"), and
   * its cursor's key (`ts_key`: PostgreSQL's microseconds, which a JS Date would round, skipping or
   * repeating rows), which the caller clears before answering.
   */
  async list(filter: RecordsFilter, limit: number): Promise<ListedRecord[]> {
    const { where, params } = filterSql(filter);
    const rows: ListedRecord[] = await queryReplica(
      this.dataSource,
      `SELECT ${RECORD_ANSWER_COLUMNS}, ${CORRECTED_COLUMNS},
              to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts_key
         FROM usage_records ${where}
        ${NEWEST_FIRST}
        LIMIT $${params.length + 1}`,
      [...params, limit],
    );
    for (const row of rows) answered(row);
    return rows;
  }

  /**
   * Opens a REPEATABLE READ snapshot with a server-side cursor over every matching record, newest
   * first, on a connection of the exports' own pool (src/database/export-connections.ts; on the
   * replica when there is one). Done before the answer starts, so a database error is still a clean
   * error response rather than a 200 cut off mid-body. The caller must `close()` it.
   */
  async openCursor(filter: RecordsFilter): Promise<RecordsCursor> {
    const { where, params } = filterSql(filter);
    const connection = await this.exportConnections.connect();
    try {
      await connection.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await connection.query(
        `DECLARE usage_csv NO SCROLL CURSOR FOR
           SELECT ${RECORD_ANSWER_COLUMNS} FROM usage_records ${where}
            ${NEWEST_FIRST}`,
        params,
      );
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      connection.release();
      throw error;
    }
    let open = true;
    return {
      fetch: (n) => connection.query<Omit<UsageRecordResponseDto, 'scopes'>>(`FETCH ${n} FROM usage_csv`),
      commit: async () => {
        await connection.query('COMMIT');
        open = false;
      },
      close: async () => {
        if (open) {
          open = false;
          await connection.query('ROLLBACK').catch(() => undefined);
        }
        connection.release();
      },
    };
  }
}

/**
 * The take's arrays of a batch that claims nothing (BatchTakeStatement `given`), from its events as
 * sent, each as BATCH_PARTS.charges reads it: the record's id, an organisation's event's member (its
 * `user_id`), its volume steps and its scopes.
 */
function givenCharges(events: Record<string, unknown>[]): GivenCharges {
  const volumes = events.map((e) => (e.volume as object | undefined) ?? null);
  const scopes = events.map((e) => (e.scopes as object | undefined) ?? null);
  return {
    records: events.map((e) => e.id as string),
    members: events.map((e) => (e.org_id === undefined ? null : (e.user_id as string))),
    volumes: volumes.some((v) => v !== null) ? volumes : null,
    scopes: scopes.some((v) => v !== null) ? scopes : null,
  };
}

/**
 * The parts that differ by what a batch's records carry: keys (claimed, their answers stored), event
 * ids (claimed, a refused one given back) or neither. Nothing claimed, nothing to give back: no
 * `release` part, a PL/pgSQL call less a statement.
 */
function partsOf(items: { eventId: string | null; idem?: unknown }[]): Partial<BatchTakeStatement> {
  const unclaimed = items.every((item) => item.eventId === null);
  if (items.some((item) => item.idem)) return unclaimed ? KEYED_UNCLAIMED_PARTS : KEYED_PARTS;
  return unclaimed ? UNCLAIMED_PARTS : {};
}

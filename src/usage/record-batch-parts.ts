import type { BatchTakeStatement } from '../engine/credits.service.js';
import { storedAnswers } from '../idempotency/statement-key.js';
import { kindList, tokenColumn } from '../pricing/token-kinds.js';
import { isoMillis } from './usage-record-rows.js';

/**
 * The batch statement's usage parts, over `batch_input` (`owner` of the event ids, `events` as JSON).
 * Records carry clock time, so a batch's records list (newest first) in the order they apply; an
 * event without `occurred_at` occurred at that same instant (read once a row: the OFFSET keeps the
 * planner from copying clock_timestamp() into both columns; their times are read in event order, and
 * nothing reads the order the rows go in, each found by its id, so no sort of the rows before the
 * INSERT: 65,000 instructions a record alone, docs/benchmarks.md "The record alone, counted"). A
 * record is written once, so only the events the take let through insert one (found through one
 * object keyed by record id, not a join: the planner cannot size a statement's CTEs); a refused
 * event gives its id back.
 */
/**
 * The event fields a record's INSERT reads, each as its `usage_records` column's own type (typmods
 * too, so a value is read and checked exactly as the column takes it; test/record-event-columns.int-spec.ts
 * holds them to the table): only these, not the table's whole row type, so the statement's plan nodes
 * carry 30 columns, not 44 (docs/benchmarks.md "The record alone, counted").
 */
export const RECORD_EVENT_COLUMNS = `id uuid, user_id varchar(50), service varchar(50), operation varchar(100), credits int,
                                     model_id varchar(100), tokens int, ${kindList((kind) => `${tokenColumn(kind)} int`)},
                                     metadata jsonb, pricing_rule_id uuid, provider_cost numeric(24,8), usage_source varchar(10),
                                     provider_usage jsonb, api_key_id uuid, actor_id varchar(50), org_id varchar(50),
                                     credits_named boolean, request_id varchar(128), account_price_id uuid,
                                     service_tier varchar(32), units jsonb, occurred_at timestamptz,
                                     scope_project varchar(200), scope_tags varchar(200)[], scope_run varchar(200),
                                     scope_session varchar(200)`;

export const BATCH_PARTS = {
  events: `SELECT c.* FROM batch_input i, LATERAL usage_events_claim(i.owner, i.events) c`,
  charges: `SELECT e.out_ord AS ord, r.id, r.credits AS amount, CASE WHEN r.org_id IS NOT NULL THEN r.user_id END AS member,
                   r.volume, r.scopes
              FROM batch_input i
             CROSS JOIN LATERAL ROWS FROM (jsonb_to_recordset(i.events) AS (id uuid, user_id varchar, org_id varchar,
                                                                           credits int, volume jsonb, scopes jsonb))
                   WITH ORDINALITY AS r(id, user_id, org_id, credits, volume, scopes, ord)
              JOIN events e ON e.out_ord = r.ord AND e.out_status = 'new'`,
  records: `INSERT INTO usage_records (id, user_id, "timestamp", service, operation, credits, model_id, tokens,
                                      ${kindList(tokenColumn)}, metadata, pricing_rule_id, provider_cost,
                                      billing_status, shortfall, review_status, usage_source, provider_usage, api_key_id,
                                      actor_id, org_id, credits_named, request_id, account_price_id, service_tier, units,
                                      occurred_at, volume_step, scope_project, scope_tags, scope_run, scope_session,
                                      account_id)
            SELECT r.id, r.user_id, r.written_at, r.service, r.operation,
                   COALESCE((k.ok -> r.id::text ->> 0)::int, r.credits), r.model_id, r.tokens,
                   ${kindList((kind) => `r.${tokenColumn(kind)}`)},
                   r.metadata, r.pricing_rule_id, r.provider_cost, 'billed', 0, NULL,
                   COALESCE(r.usage_source, 'reported'), r.provider_usage, r.api_key_id, r.actor_id, r.org_id,
                   COALESCE(r.credits_named, false), r.request_id, r.account_price_id, r.service_tier, r.units,
                   COALESCE(r.occurred_at, r.written_at), (k.ok -> r.id::text ->> 1)::smallint, r.scope_project, r.scope_tags,
                   r.scope_run, r.scope_session, (k.ok -> r.id::text ->> 2)::bigint
              FROM (SELECT e.*, clock_timestamp() AS written_at
                      FROM batch_input i
                     CROSS JOIN LATERAL jsonb_to_recordset(i.events) AS e(${RECORD_EVENT_COLUMNS})
                    OFFSET 0) r,
                   -- the events let through, each with the account it charged; one on a rule with volume steps
                   -- with the credits and step the take decided
                   (SELECT jsonb_object_agg(t.out_usage_record_id::text,
                                            jsonb_build_array(CASE WHEN t.out_volume_step IS NOT NULL
                                                                   THEN t.out_collected + t.out_debt END,
                                                              t.out_volume_step, t.out_account_id)) AS ok
                      FROM takes t WHERE t.out_status = 'ok') k
             WHERE k.ok ? r.id::text
            RETURNING id`,
  // One row always (an aggregate), also when nothing was refused. Each refused id goes back in the
  // statement's namespace, or with none (records of many writers) in its event's own `owner`'s.
  release: `SELECT usage_events_release((SELECT owner FROM batch_input), array_agg(e.out_event_id),
                                       array_agg(i.events -> (e.out_ord - 1) ->> 'owner'))
              FROM batch_input i
             CROSS JOIN refused f JOIN events e ON e.out_status = 'new' AND e.out_usage_record_id = f.usage_record_id
             WHERE e.out_event_id IS NOT NULL`,
} satisfies Omit<BatchTakeStatement, 'amounts' | 'accountIds' | 'createdBy' | 'input' | 'label'>;

/**
 * Parts of a batch without eventIds: nothing claimed, so no `released` part (nothing to give back),
 * the events read inline (docs/benchmarks.md).
 */
export const UNCLAIMED_PARTS = {
  events: `SELECT u.out_ord, u.out_event_id, u.out_status, u.out_usage_record_id
             FROM batch_input i, LATERAL usage_events_unclaimed(i.events) u`,
  release: undefined,
} satisfies Pick<BatchTakeStatement, 'events' | 'release'>;

/**
 * What a batch outcome row carries of a created event's record (BatchTakeStatement `answer`), under
 * the names of an InsertedRecordSqlRow, so insertedRecord() reads the row as it is; and what
 * `records` returns for it only then: a batch's metadata (up to 16 KB an event) is not kept in the
 * statement for nothing.
 */
export const RECORD_ANSWER = `r."timestamp", r.metadata, r.provider_usage, r.credits, r.volume_step`;
/** The records part that answers them too: one string, so a statement's shape is the same each call. */
export const ANSWERED_RECORDS = `${BATCH_PARTS.records}, "timestamp", metadata, provider_usage, credits, volume_step`;

/**
 * Parts of a batch whose records carry an Idempotency-Key (an event's `idem`, docs/usage.md
 * "Idempotency (every POST)"): `events` finds each key's request running, answered or free, and claims the
 * event ids of the free ones (usage_keys_claim()); `stored` stores each created record's answer for its
 * key in the same statement, so the record and its key's answer commit together. The answer is the
 * one the route sends (insertedRecord()), its template sent as the event's `answer` and completed from the
 * record as written; `occurredAt` defaults to the record's time when the body names none.
 */
export const KEYED_PARTS = {
  events: `SELECT c.* FROM batch_input i, LATERAL usage_keys_claim(i.owner, i.events) c`,
  // Each created record's key with its answer: the template completed from the record as written, in one
  // concatenation (a second, for the default `occurredAt` first, built the answer twice: 7 µs a record).
  stored: storedAnswers(`SELECT e.idem,
                                e.answer || jsonb_build_object('timestamp', t.at, 'credits', r.credits, 'metadata', r.metadata,
                                                               'providerUsage', r.provider_usage, 'volumeStep', r.volume_step,
                                                               'occurredAt', COALESCE(e.answer -> 'occurredAt', to_jsonb(t.at))) AS answer
                           FROM batch_input i
                          CROSS JOIN LATERAL jsonb_to_recordset(i.events) AS e(id uuid, idem jsonb, answer jsonb)
                           JOIN records r ON r.id = e.id
                          CROSS JOIN LATERAL (SELECT ${isoMillis('r."timestamp"')} AS at) t
                          WHERE e.idem IS NOT NULL`),
} satisfies Pick<BatchTakeStatement, 'events' | 'stored'>;

/** KEYED_PARTS for records without event ids: none claimed, so none to give back. */
export const KEYED_UNCLAIMED_PARTS = { ...KEYED_PARTS, release: undefined } satisfies Pick<
  BatchTakeStatement,
  'events' | 'stored' | 'release'
>;

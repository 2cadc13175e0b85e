import { TOKEN_COLUMNS } from '../pricing/token-kinds.js';

/**
 * What each exported dataset holds: its table, the column that dates its rows (the file's
 * `date=YYYY-MM-DD` folder, UTC), and its columns with their Parquet types (docs/exports.md lists them).
 * Free text an operator typed (notes, reasons) and anything naming a person beyond their id stay out.
 */
export type ExportColumnType =
  'VARCHAR' | 'JSON' | 'BIGINT' | 'INTEGER' | 'BOOLEAN' | 'TIMESTAMPTZ' | 'DECIMAL(38,10)' | 'DECIMAL(22,4)';

export interface ExportColumn {
  name: string;
  type: ExportColumnType;
  /** The SQL that reads it (default: the column of that name). */
  sql?: string;
  /** A money column: `value_minor` of `currency` as a decimal with the currency's places. */
  money?: { minor: string; currency: string };
}

export interface ExportDataset {
  name: string;
  table: string;
  /** The column whose UTC day names the file's folder. */
  dateColumn: string;
  /** The rows' order inside a file. */
  orderBy: string;
  columns: ExportColumn[];
}

const ID = 'VARCHAR' as const;

/** A column: its name, its Parquet type, and how it is read when not the column of that name. */
type ColumnRow = [name: string, type: ExportColumnType, read?: Pick<ExportColumn, 'sql' | 'money'>];

/** A dataset's columns, one row each, in the file's order. */
function columns(...rows: ColumnRow[]): ExportColumn[] {
  return rows.map(([name, type, read]) => ({ name, type, ...read }));
}

/**
 * A record's credits as it was written: a review's collect adds to the record's `credits` later, and
 * reaches the warehouse as its row of `review_resolutions` instead, so a record's file never depends on
 * when its run read it (docs/exports.md "A usage record's changes").
 */
const CREDITS_AS_WRITTEN = `(credits - COALESCE((SELECT sum(x.collected) FROM usage_review_resolutions x
                                           WHERE x.record_id = usage_records.id), 0))`;

/** A lot's money: `value_minor` in `currency`, as a decimal. */
const MONEY_VALUE = { money: { minor: 'value_minor', currency: 'currency' } };

export const EXPORT_DATASETS: readonly ExportDataset[] = [
  {
    name: 'usage_records',
    table: 'usage_records',
    dateColumn: 'timestamp',
    orderBy: 'id',
    columns: columns(
      ['id', ID],
      ['user_id', ID],
      ['org_id', ID],
      ['timestamp', 'TIMESTAMPTZ'],
      ['service', 'VARCHAR'],
      ['operation', 'VARCHAR'],
      ['model_id', 'VARCHAR'],
      ['credits', 'INTEGER', { sql: CREDITS_AS_WRITTEN }],
      ['credits_named', 'BOOLEAN'],
      ['tokens', 'INTEGER'],
      // Every token kind's count, from the one list: a new kind is exported with no change here.
      ...TOKEN_COLUMNS.map((column): ColumnRow => [column, 'INTEGER']),
      ['billing_status', 'VARCHAR'],
      ['shortfall', 'INTEGER'],
      ['usage_source', 'VARCHAR'],
      ['provider_cost', 'DECIMAL(38,10)'],
      ['pricing_rule_id', ID],
      ['account_price_id', ID],
      ['api_key_id', ID],
      ['actor_id', ID],
      ['request_id', 'VARCHAR'],
      ['metadata', 'JSON'],
      ['occurred_at', 'TIMESTAMPTZ'],
      ['service_tier', 'VARCHAR'],
      ['units', 'JSON'],
    ),
  },
  {
    name: 'ledger_entries',
    table: 'credit_ledger',
    dateColumn: 'created_at',
    orderBy: 'id',
    columns: columns(
      ['id', 'BIGINT'],
      ['account_id', 'BIGINT'],
      ['member_id', ID],
      ['allocation_id', ID],
      ['kind', 'VARCHAR'],
      ['category', 'VARCHAR'],
      ['credits', 'INTEGER', { sql: 'amount' }],
      ['balance_after', 'BIGINT'],
      ['usage_record_id', ID],
      ['session_id', 'VARCHAR'],
      ['api_key_id', ID],
      ['created_by', ID],
      ['created_at', 'TIMESTAMPTZ'],
      ['booked_at', 'TIMESTAMPTZ'],
      ['currency', 'VARCHAR'],
      ['value_minor', 'BIGINT'],
      ['value', 'DECIMAL(22,4)', MONEY_VALUE],
      ['correction_id', ID],
    ),
  },
  {
    name: 'allocations',
    table: 'credit_allocations',
    dateColumn: 'allocated_at',
    orderBy: 'id',
    columns: columns(
      ['id', ID],
      ['account_id', 'BIGINT'],
      ['source', 'VARCHAR'],
      ['total_credits', 'INTEGER'],
      ['remaining_credits', 'INTEGER'],
      ['allocated_by', ID],
      ['allocated_at', 'TIMESTAMPTZ'],
      ['expires_at', 'TIMESTAMPTZ'],
      ['voided_at', 'TIMESTAMPTZ'],
      ['plan_id', ID],
      ['subscription_id', ID],
      ['purchase_id', ID],
      ['currency', 'VARCHAR'],
      ['value_minor', 'BIGINT'],
      ['value', 'DECIMAL(22,4)', MONEY_VALUE],
    ),
  },
  {
    name: 'purchases',
    table: 'purchases',
    dateColumn: 'created_at',
    orderBy: 'id',
    columns: columns(
      ['id', ID],
      ['account_id', 'BIGINT'],
      ['user_id', ID],
      ['org_id', ID],
      ['package_id', ID],
      ['credits', 'INTEGER'],
      ['bonus_credits', 'INTEGER'],
      ['amount', 'DECIMAL(22,4)'],
      ['currency', 'VARCHAR'],
      ['provider', 'VARCHAR'],
      ['status', 'VARCHAR'],
      ['refunded_credits', 'INTEGER'],
      ['refunded_amount', 'DECIMAL(22,4)'],
      ['disputed_credits', 'INTEGER'],
      ['created_by', ID],
      ['created_at', 'TIMESTAMPTZ'],
      ['paid_at', 'TIMESTAMPTZ'],
      ['closed_at', 'TIMESTAMPTZ'],
    ),
  },
  {
    // A correction's money is on its ledger entries (`ledger_entries.correction_id` names it); the
    // reason an operator typed stays out.
    name: 'corrections',
    table: 'usage_corrections',
    dateColumn: 'created_at',
    orderBy: 'id',
    columns: columns(
      ['id', ID],
      ['record_id', ID],
      ['correction_id', 'VARCHAR'],
      ['previous_credits', 'INTEGER'],
      ['credits', 'INTEGER'],
      ['delta', 'INTEGER'],
      ['shortfall_delta', 'INTEGER'],
      ['created_by', ID],
      ['created_at', 'TIMESTAMPTZ'],
    ),
  },
  {
    // A review resolved: `collected` is what a collect added to the record's credits, `net_delta` what
    // the resolution changed of its net credits (a write-off drops the open shortfall; a collect
    // takes it whole and changes nothing). The note an operator typed stays out.
    name: 'review_resolutions',
    table: 'usage_review_resolutions',
    dateColumn: 'created_at',
    orderBy: 'id',
    columns: columns(
      ['id', ID],
      ['record_id', ID],
      ['resolution', 'VARCHAR'],
      ['open_shortfall', 'INTEGER'],
      ['collected', 'INTEGER'],
      ['net_delta', 'INTEGER', { sql: '(collected - open_shortfall)' }],
      ['created_by', ID],
      ['created_at', 'TIMESTAMPTZ'],
    ),
  },
];

export const EXPORT_DATASET_NAMES = EXPORT_DATASETS.map((d) => d.name);

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

export const EXPORT_DATASETS: readonly ExportDataset[] = [
  {
    name: 'usage_records',
    table: 'usage_records',
    dateColumn: 'timestamp',
    orderBy: 'id',
    columns: [
      { name: 'id', type: ID },
      { name: 'user_id', type: ID },
      { name: 'org_id', type: ID },
      { name: 'timestamp', type: 'TIMESTAMPTZ' },
      { name: 'service', type: 'VARCHAR' },
      { name: 'operation', type: 'VARCHAR' },
      { name: 'model_id', type: 'VARCHAR' },
      { name: 'credits', type: 'INTEGER' },
      { name: 'credits_named', type: 'BOOLEAN' },
      { name: 'tokens', type: 'INTEGER' },
      { name: 'input_tokens', type: 'INTEGER' },
      { name: 'output_tokens', type: 'INTEGER' },
      { name: 'cache_read_tokens', type: 'INTEGER' },
      { name: 'cache_write_tokens', type: 'INTEGER' },
      { name: 'reasoning_tokens', type: 'INTEGER' },
      { name: 'billing_status', type: 'VARCHAR' },
      { name: 'shortfall', type: 'INTEGER' },
      { name: 'usage_source', type: 'VARCHAR' },
      { name: 'provider_cost', type: 'DECIMAL(38,10)' },
      { name: 'pricing_rule_id', type: ID },
      { name: 'account_price_id', type: ID },
      { name: 'api_key_id', type: ID },
      { name: 'actor_id', type: ID },
      { name: 'request_id', type: 'VARCHAR' },
      { name: 'metadata', type: 'JSON' },
      { name: 'occurred_at', type: 'TIMESTAMPTZ' },
      { name: 'service_tier', type: 'VARCHAR' },
      { name: 'units', type: 'JSON' },
    ],
  },
  {
    name: 'ledger_entries',
    table: 'credit_ledger',
    dateColumn: 'created_at',
    orderBy: 'id',
    columns: [
      { name: 'id', type: 'BIGINT' },
      { name: 'account_id', type: 'BIGINT' },
      { name: 'member_id', type: ID },
      { name: 'allocation_id', type: ID },
      { name: 'kind', type: 'VARCHAR' },
      { name: 'category', type: 'VARCHAR' },
      { name: 'credits', type: 'INTEGER', sql: 'amount' },
      { name: 'balance_after', type: 'BIGINT' },
      { name: 'usage_record_id', type: ID },
      { name: 'session_id', type: 'VARCHAR' },
      { name: 'api_key_id', type: ID },
      { name: 'created_by', type: ID },
      { name: 'created_at', type: 'TIMESTAMPTZ' },
      { name: 'booked_at', type: 'TIMESTAMPTZ' },
      { name: 'currency', type: 'VARCHAR' },
      { name: 'value_minor', type: 'BIGINT' },
      { name: 'value', type: 'DECIMAL(22,4)', money: { minor: 'value_minor', currency: 'currency' } },
      { name: 'correction_id', type: ID },
    ],
  },
  {
    name: 'allocations',
    table: 'credit_allocations',
    dateColumn: 'allocated_at',
    orderBy: 'id',
    columns: [
      { name: 'id', type: ID },
      { name: 'account_id', type: 'BIGINT' },
      { name: 'source', type: 'VARCHAR' },
      { name: 'total_credits', type: 'INTEGER' },
      { name: 'remaining_credits', type: 'INTEGER' },
      { name: 'allocated_by', type: ID },
      { name: 'allocated_at', type: 'TIMESTAMPTZ' },
      { name: 'expires_at', type: 'TIMESTAMPTZ' },
      { name: 'voided_at', type: 'TIMESTAMPTZ' },
      { name: 'plan_id', type: ID },
      { name: 'subscription_id', type: ID },
      { name: 'purchase_id', type: ID },
      { name: 'currency', type: 'VARCHAR' },
      { name: 'value_minor', type: 'BIGINT' },
      { name: 'value', type: 'DECIMAL(22,4)', money: { minor: 'value_minor', currency: 'currency' } },
    ],
  },
  {
    name: 'purchases',
    table: 'purchases',
    dateColumn: 'created_at',
    orderBy: 'id',
    columns: [
      { name: 'id', type: ID },
      { name: 'account_id', type: 'BIGINT' },
      { name: 'user_id', type: ID },
      { name: 'org_id', type: ID },
      { name: 'package_id', type: ID },
      { name: 'credits', type: 'INTEGER' },
      { name: 'bonus_credits', type: 'INTEGER' },
      { name: 'amount', type: 'DECIMAL(22,4)' },
      { name: 'currency', type: 'VARCHAR' },
      { name: 'provider', type: 'VARCHAR' },
      { name: 'status', type: 'VARCHAR' },
      { name: 'refunded_credits', type: 'INTEGER' },
      { name: 'refunded_amount', type: 'DECIMAL(22,4)' },
      { name: 'disputed_credits', type: 'INTEGER' },
      { name: 'created_by', type: ID },
      { name: 'created_at', type: 'TIMESTAMPTZ' },
      { name: 'paid_at', type: 'TIMESTAMPTZ' },
      { name: 'closed_at', type: 'TIMESTAMPTZ' },
    ],
  },
  {
    // A correction's money is on its ledger entries (`ledger_entries.correction_id` names it); the
    // reason an operator typed stays out.
    name: 'corrections',
    table: 'usage_corrections',
    dateColumn: 'created_at',
    orderBy: 'id',
    columns: [
      { name: 'id', type: ID },
      { name: 'record_id', type: ID },
      { name: 'correction_id', type: 'VARCHAR' },
      { name: 'previous_credits', type: 'INTEGER' },
      { name: 'credits', type: 'INTEGER' },
      { name: 'delta', type: 'INTEGER' },
      { name: 'shortfall_delta', type: 'INTEGER' },
      { name: 'created_by', type: ID },
      { name: 'created_at', type: 'TIMESTAMPTZ' },
    ],
  },
];

export const EXPORT_DATASET_NAMES = EXPORT_DATASETS.map((d) => d.name);

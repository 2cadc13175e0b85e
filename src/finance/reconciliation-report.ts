import { CsvError, parse } from 'csv-parse/sync';

import { DomainError } from '../common/errors/domain-error.js';

/**
 * Stripe's itemized payout reconciliation report (`payout_reconciliation.itemized`), read and matched
 * against the Stripe purchases (docs/reconciliation.md). Pure: the service reads the purchases the
 * report names and the ones it should have named, and hands them in.
 */

/** The columns a report must have; Stripe's others are ignored. */
export const REQUIRED_COLUMNS = [
  'balance_transaction_id',
  'created_utc',
  'currency',
  'gross',
  'fee',
  'net',
  'reporting_category',
  'payment_intent_id',
  'automatic_payout_id',
] as const;

/** One balance transaction of the report; amounts in thousandths of the currency's unit (exact). */
export interface ReportRow {
  line: number;
  balanceTransactionId: string;
  createdAt: Date;
  currency: string;
  gross: bigint;
  category: string;
  paymentIntentId: string | null;
  payoutId: string | null;
}

/** What the service knows of a Stripe purchase paid with a payment intent. */
export interface PurchaseFacts {
  id: string;
  paymentIntentId: string;
  amount: string;
  currency: string;
  /** What was refunded: the admins' refunds or the provider's cumulative report, whichever is more. */
  refundedAmount: string;
  status: string;
  paidAt: Date;
}

export interface MismatchedItem {
  balanceTransactionId: string;
  category: string;
  purchaseId: string;
  expected: string;
  got: string;
}

export interface UnknownItem {
  balanceTransactionId: string;
  category: string;
  gross: string;
  paymentIntentId: string | null;
}

export interface MissingItem {
  purchaseId: string;
  amount: string;
  paidAt: string;
}

export interface ReconciliationResult {
  payouts: string[];
  rows: number;
  matched: number;
  mismatched: MismatchedItem[];
  unknown: UnknownItem[];
  missing: MissingItem[];
}

/** The categories matched against purchases; every other row (fees, payouts…) is only counted. */
const MATCHED_CATEGORIES = new Set(['charge', 'refund', 'dispute']);

/** Stripe writes amounts as decimals in the currency's unit ("10.00", "-4.00", "1000" for jpy). */
const DECIMAL = /^-?\d{1,15}(\.\d{1,3})?$/;
const CURRENCY = /^[a-z]{3}$/;
/** `created_utc`: "2026-11-24 12:00:00" as Stripe writes it, or ISO 8601. */
const STRIPE_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})?$/;

/** "10.5" → 10500n (thousandths), exactly. The caller has checked DECIMAL. */
export function toThousandths(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const value = BigInt(whole) * 1000n + BigInt(fraction.padEnd(3, '0'));
  return negative ? -value : value;
}

/** 10500n → "10.50"; 10505n → "10.505" (two places unless the thousandths are needed). */
export function fromThousandths(value: bigint): string {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const fraction = (abs % 1000n).toString().padStart(3, '0');
  return `${sign}${abs / 1000n}.${fraction.endsWith('0') ? fraction.slice(0, 2) : fraction}`;
}

function invalid(line: number, message: string): DomainError {
  return new DomainError('VALIDATION', `Line ${line} of the report: ${message}`);
}

function parseTime(text: string, line: number): Date {
  if (!STRIPE_TIME.test(text)) throw invalid(line, `created_utc "${text.slice(0, 40)}" is not a UTC time`);
  const iso = text.replace(' ', 'T');
  const at = new Date(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(at.getTime())) throw invalid(line, `created_utc "${text}" is not a UTC time`);
  return at;
}

/** The most rows (beside the header) a report may have: more → 400 REPORT_TOO_LARGE. */
export const MAX_REPORT_ROWS = 200_000;

/** The report's records, the header first; no more than one past MAX_REPORT_ROWS is read. */
function records(text: string): string[][] {
  try {
    return parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
      to: MAX_REPORT_ROWS + 2,
    }) as string[][];
  } catch (error) {
    if (error instanceof CsvError) throw new DomainError('VALIDATION', `The report is not valid CSV: ${error.message}`);
    throw error;
  }
}

/** The report's rows; 400 naming the required columns it lacks, or the first row that is not valid. */
export function parseReport(text: string): ReportRow[] {
  const all = records(text);
  const header = all[0];
  if (!header) throw new DomainError('VALIDATION', 'The report is empty: no header row');
  if (all.length - 1 > MAX_REPORT_ROWS) {
    throw new DomainError('REPORT_TOO_LARGE', `The report has more than ${MAX_REPORT_ROWS} rows: split it by payout`, {
      maxRows: MAX_REPORT_ROWS,
    });
  }
  const body = all.slice(1);
  const names = header.map((name) => name.trim());
  const missing = REQUIRED_COLUMNS.filter((column) => !names.includes(column));
  if (missing.length > 0) {
    throw new DomainError('VALIDATION', `The report lacks the required columns: ${missing.join(', ')}`);
  }
  const at = Object.fromEntries(REQUIRED_COLUMNS.map((column) => [column, names.indexOf(column)])) as Record<
    (typeof REQUIRED_COLUMNS)[number],
    number
  >;
  return body.map((cells, index) => {
    const line = index + 2;
    const cell = (column: (typeof REQUIRED_COLUMNS)[number]) => (cells[at[column]] ?? '').trim();
    const id = cell('balance_transaction_id');
    if (id.length === 0 || id.length > 255) throw invalid(line, 'balance_transaction_id is empty or too long');
    const currency = cell('currency').toLowerCase();
    if (!CURRENCY.test(currency)) throw invalid(line, `currency "${currency.slice(0, 10)}" is not a currency code`);
    for (const column of ['gross', 'fee', 'net'] as const) {
      if (!DECIMAL.test(cell(column))) throw invalid(line, `${column} "${cell(column).slice(0, 30)}" is not an amount`);
    }
    const category = cell('reporting_category');
    if (!/^[a-z_]{1,50}$/.test(category)) throw invalid(line, 'reporting_category is not a category');
    const optional = (value: string) => (value.length > 0 && value.length <= 255 ? value : null);
    return {
      line,
      balanceTransactionId: id,
      createdAt: parseTime(cell('created_utc'), line),
      currency,
      gross: toThousandths(cell('gross')),
      category,
      paymentIntentId: optional(cell('payment_intent_id')),
      payoutId: optional(cell('automatic_payout_id')),
    };
  });
}

/** The payment intents whose purchases the matching needs. */
export function paymentIntentsOf(rows: ReportRow[]): string[] {
  return [
    ...new Set(
      rows.flatMap((r) => (MATCHED_CATEGORIES.has(r.category) && r.paymentIntentId ? [r.paymentIntentId] : [])),
    ),
  ];
}

/**
 * The span of the report's charge rows, `to` exclusive and a second past the last one (`created_utc`
 * has whole seconds), with their currencies: where a paid purchase no row names is missing.
 */
export function chargeSpan(rows: ReportRow[]): { from: Date; to: Date; currencies: string[] } | null {
  // One pass, no spread: Math.min(...times) overflows the stack past about 100,000 arguments.
  let from = Infinity;
  let to = -Infinity;
  const currencies = new Set<string>();
  for (const r of rows) {
    if (r.category !== 'charge') continue;
    const at = r.createdAt.getTime();
    if (at < from) from = at;
    if (at > to) to = at;
    currencies.add(r.currency);
  }
  if (currencies.size === 0) return null;
  return { from: new Date(from), to: new Date(to + 1000), currencies: [...currencies] };
}

const unknownItem = (row: ReportRow): UnknownItem => ({
  balanceTransactionId: row.balanceTransactionId,
  category: row.category,
  gross: fromThousandths(row.gross),
  paymentIntentId: row.paymentIntentId,
});

/**
 * Matches the rows with the purchases (`byIntent`: those the rows name; `paidInSpan`: every Stripe
 * purchase paid within chargeSpan). A charge matches when its gross and currency are the purchase's;
 * a purchase's refund rows match together when their −gross adds up to its refunded amount; a dispute
 * row matches a purchase whose dispute was lost (`charged_back`).
 */
export function reconcile(
  rows: ReportRow[],
  byIntent: Map<string, PurchaseFacts>,
  paidInSpan: PurchaseFacts[],
): ReconciliationResult {
  const result: ReconciliationResult = {
    payouts: [...new Set(rows.map((r) => r.payoutId).filter((id) => id !== null))],
    rows: rows.length,
    matched: 0,
    mismatched: [],
    unknown: [],
    missing: [],
  };
  const refunds = new Map<string, ReportRow[]>();
  for (const row of rows) {
    if (!MATCHED_CATEGORIES.has(row.category)) continue;
    const purchase = row.paymentIntentId ? byIntent.get(row.paymentIntentId) : undefined;
    if (!purchase) {
      result.unknown.push(unknownItem(row));
    } else if (row.category === 'refund') {
      // appended in place: a copy per row made a purchase's n refund rows cost n² (a 2.9 MB report
      // took 100 s)
      const own = refunds.get(purchase.id);
      if (own) own.push(row);
      else refunds.set(purchase.id, [row]);
    } else {
      const mismatch = row.category === 'charge' ? chargeMismatch(row, purchase) : disputeMismatch(purchase);
      if (mismatch)
        result.mismatched.push({
          balanceTransactionId: row.balanceTransactionId,
          category: row.category,
          purchaseId: purchase.id,
          ...mismatch,
        });
      else result.matched += 1;
    }
  }
  for (const [purchaseId, own] of refunds) {
    const purchase = byIntent.get(own[0].paymentIntentId!)!;
    const refunded = -own.reduce((sum, r) => sum + r.gross, 0n);
    const expected = toThousandths(purchase.refundedAmount);
    if (refunded === expected && own.every((r) => r.currency === purchase.currency)) {
      result.matched += own.length;
      continue;
    }
    for (const row of own) {
      result.mismatched.push({
        balanceTransactionId: row.balanceTransactionId,
        category: 'refund',
        purchaseId,
        expected: purchase.refundedAmount,
        got: `${fromThousandths(refunded)}${row.currency === purchase.currency ? '' : ` ${row.currency}`}`,
      });
    }
  }
  const named = new Set<string | null>();
  for (const r of rows) named.add(r.paymentIntentId);
  result.missing = paidInSpan
    .filter((p) => !named.has(p.paymentIntentId))
    .map((p) => ({ purchaseId: p.id, amount: p.amount, paidAt: p.paidAt.toISOString() }));
  return result;
}

function chargeMismatch(row: ReportRow, purchase: PurchaseFacts): { expected: string; got: string } | null {
  if (row.gross === toThousandths(purchase.amount) && row.currency === purchase.currency) return null;
  return {
    expected: `${purchase.amount}${row.currency === purchase.currency ? '' : ` ${purchase.currency}`}`,
    got: `${fromThousandths(row.gross)}${row.currency === purchase.currency ? '' : ` ${row.currency}`}`,
  };
}

/** A dispute row stands for a lost dispute: its purchase must be charged back (else its status shows). */
function disputeMismatch(purchase: PurchaseFacts): { expected: string; got: string } | null {
  return purchase.status === 'charged_back' ? null : { expected: 'charged_back', got: purchase.status };
}

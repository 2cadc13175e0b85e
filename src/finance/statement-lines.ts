import { fromMinor } from '../common/money/currencies.js';
import type { StatementKind } from '../credits/dto/statements.dto.js';

/**
 * A month's statement of one account (docs/statements.md), made from its ledger: pure functions that
 * turn the ledger's movements into the statement's lines and render them as CSV.
 */

/** One movement the statement counts, as the repository reads it (`at` orders them). */
export interface Movement {
  at: Date;
  /** The ledger's kind, or `session` for a settled session's net use (its holds less what came back). */
  kind: string;
  credits: number;
  source: string | null;
  allocationId: string | null;
  purchaseId: string | null;
  chargeback: boolean;
  /** The money that moved with the credits, in the currency's minor units (null: promotional credits). */
  valueMinor: bigint | null;
  currency: string | null;
  /** The usage correction the line belongs to (its lines make one statement line), else null. */
  correctionId?: string | null;
}

export interface StatementLine {
  date: string;
  kind: StatementKind;
  credits: number;
  /** The money of the line's credits (decimal, signed like them), when they were paid for. */
  value?: string;
  currency?: string;
  description: string;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** A month "YYYY-MM" as its UTC bounds [start, end); null when it is not one. */
export function monthBounds(month: string): { start: Date; end: Date } | null {
  const m = MONTH.exec(month);
  if (!m) return null;
  const year = Number(m[1]);
  const index = Number(m[2]) - 1;
  return { start: new Date(Date.UTC(year, index, 1)), end: new Date(Date.UTC(year, index + 1, 1)) };
}

/** The UTC month holding `at`, as "YYYY-MM". */
export const monthOf = (at: Date): string => at.toISOString().slice(0, 7);

const day = (at: Date): string => at.toISOString().slice(0, 10);

/** Money per currency, in minor units (null: promotional credits, which carry none). */
type Values = Map<string | null, bigint>;

function add(values: Values, m: Movement): void {
  values.set(m.currency, (values.get(m.currency) ?? 0n) + (m.valueMinor ?? 0n));
}

/** A line's value: the money of its one currency; none when its credits carry none, or several currencies. */
function valueOf(values: Values): { value: string; currency: string } | object {
  const currencies = [...values.keys()].filter((c) => c !== null);
  if (currencies.length !== 1) return {};
  const [currency] = currencies as string[];
  return { value: fromMinor(values.get(currency)!, currency), currency };
}

/** A grant's line kind, by where its allocation came from. */
function grantKind(source: string | null): StatementKind {
  switch (source) {
    case 'purchase':
      return 'purchase';
    case 'plan':
    case 'rollover':
      return 'plan';
    case 'promotion':
    case 'signup':
      return 'promotion';
    case 'transfer':
      return 'transfer_in';
    default:
      return 'grant';
  }
}

function lineOf(m: Movement): { kind: StatementKind; description: string } | null {
  const lot = m.allocationId ? ` (allocation ${m.allocationId})` : '';
  switch (m.kind) {
    case 'grant': {
      const kind = grantKind(m.source);
      if (kind === 'purchase') return { kind, description: `Purchase ${m.purchaseId}` };
      if (m.source === 'rollover') return { kind, description: `Rolled over into the new period${lot}` };
      if (m.source === 'signup') return { kind, description: `Signup credits${lot}` };
      return {
        kind,
        description: `${kind === 'plan' ? 'Plan allowance' : kind === 'promotion' ? 'Promotion' : 'Granted'}${lot}`,
      };
    }
    case 'rollover':
      return { kind: 'plan', description: `Rolled over from the period before${lot}` };
    case 'transfer_in':
      return { kind: 'transfer_in', description: `Transferred in${lot}` };
    case 'volume_adjustment':
      return { kind: 'correction', description: `Volume price given back${lot}` };
    case 'transfer_out':
      return { kind: 'transfer_out', description: `Transferred out${lot}` };
    case 'expire':
      return { kind: 'expiry', description: `Expired unused${lot}` };
    case 'void':
      return { kind: 'void', description: `Voided${lot}` };
    case 'refund':
      return m.chargeback
        ? { kind: 'chargeback', description: `Charged back: purchase ${m.purchaseId}` }
        : { kind: 'refund', description: `Refunded: purchase ${m.purchaseId ?? ''}`.trim() };
    case 'debt':
      return { kind: 'debt', description: 'Credits already used when taken back, owed as debt' };
    case 'debit':
    case 'overdraft':
    case 'session':
      return null; // usage: one line per UTC day (below)
    default:
      throw new Error(`ledger kind ${m.kind} has no statement line`);
  }
}

/**
 * The statement's lines in time order: one per movement, but usage (records, settled sessions,
 * overdrafts) summed into one line per UTC day, dated that day, and a usage correction's lines into
 * one. Zero lines are left out.
 */
export function statementLines(movements: Movement[]): StatementLine[] {
  type Pending = StatementLine & { at: number; values: Values };
  const lines: Pending[] = [];
  const usage = new Map<string, Pending>();
  const corrections = new Map<string, Pending>();
  for (const m of movements) {
    if (m.correctionId) {
      // a correction's lines (given back, taken, a dead lot's part moved to its new allocation): one line
      let line = corrections.get(m.correctionId);
      if (!line) {
        line = {
          date: day(m.at),
          kind: 'correction',
          credits: 0,
          description: 'Usage correction',
          at: m.at.getTime(),
          values: new Map(),
        };
        corrections.set(m.correctionId, line);
        lines.push(line);
      }
      line.credits += m.credits;
      add(line.values, m);
      continue;
    }
    const line = lineOf(m);
    const date = day(m.at);
    if (line) {
      lines.push({ date, ...line, credits: m.credits, at: m.at.getTime(), values: new Map() });
      add(lines.at(-1)!.values, m);
      continue;
    }
    let today = usage.get(date);
    if (!today) {
      // placed among the day's lines where its first use was
      today = {
        date,
        kind: 'usage',
        credits: 0,
        description: `Usage on ${date} (UTC)`,
        at: m.at.getTime(),
        values: new Map(),
      };
      usage.set(date, today);
    }
    today.credits += m.credits;
    add(today.values, m);
  }
  return [...lines, ...usage.values()]
    .filter((l) => l.credits !== 0)
    .sort((a, b) => a.date.localeCompare(b.date) || a.at - b.at)
    .map(({ at: _at, values, description, ...line }) => ({ ...line, ...valueOf(values), description }));
}

/** A CSV field, quoted when it must be (RFC 4180), and never read as a formula by a spreadsheet. */
function field(value: string | number): string {
  // a signed number (credits, a value) stays a number; other text a spreadsheet could run is defused
  const text =
    typeof value === 'number' || /^-?\d+(\.\d+)?$/.test(value)
      ? String(value)
      : /^[=+\-@\t\r]/.test(value)
        ? `'${value}`
        : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The statement as CSV: the opening balance, the lines, the closing balance. */
export function statementCsv(s: {
  month: string;
  openingCredits: number;
  closingCredits: number;
  lines: StatementLine[];
}): string {
  const start = `${s.month}-01`;
  const rows: Array<Array<string | number>> = [
    ['date', 'kind', 'credits', 'value', 'currency', 'description'],
    [start, 'opening', s.openingCredits, '', '', 'Credits at the start of the month'],
    ...s.lines.map((l) => [l.date, l.kind, l.credits, l.value ?? '', l.currency ?? '', l.description]),
    [s.lines.at(-1)?.date ?? start, 'closing', s.closingCredits, '', '', 'Credits at the end of the month'],
  ];
  return rows.map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

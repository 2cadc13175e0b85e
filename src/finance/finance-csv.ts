import { csvLine, csvText } from '../usage/csv/usage-csv.js';
import type { LiabilityAccountDto, PeriodFiguresDto } from './dto/finance.dto.js';
import { MONEY_IN, MONEY_OUT, MONEY_WITHIN } from './finance-figures.js';

const PERIOD_COLUMNS = [
  'start',
  'end',
  'opening',
  ...MONEY_IN,
  ...MONEY_OUT,
  'closing',
  'disputed',
  ...MONEY_WITHIN,
] as const;

/** The roll-forward CSV's first line: rows of all accounts first, then (groupBy=account) of each. */
export const ROLL_FORWARD_CSV_HEADER = csvLine(['userId', 'orgId', ...PERIOD_COLUMNS]);

/** The CSV rows of one account's periods (or of all accounts': no owner). */
export function rollForwardCsvRows(owner: { userId?: string; orgId?: string }, periods: PeriodFiguresDto[]): string {
  return periods
    .map((p) => csvLine([csvText(owner.userId), csvText(owner.orgId), ...PERIOD_COLUMNS.map((c) => p[c])]))
    .join('');
}

export const LIABILITY_CSV_HEADER = csvLine(['userId', 'orgId', 'credits', 'value']);

/** The liability's CSV rows: one per account. */
export function liabilityCsvRows(accounts: LiabilityAccountDto[]): string {
  return accounts.map((a) => csvLine([csvText(a.userId), csvText(a.orgId), String(a.credits), a.value])).join('');
}

import { csvLine, csvText } from '../usage/usage-csv.js';
import type { LiabilityResponseDto, PeriodFiguresDto, RollForwardResponseDto } from './dto/finance.dto.js';
import { MONEY_IN, MONEY_OUT } from './finance-figures.js';

const PERIOD_COLUMNS = ['start', 'end', 'opening', ...MONEY_IN, ...MONEY_OUT, 'closing', 'disputed'] as const;

/** The roll-forward as CSV: one row per period of all accounts, then (groupBy=account) of each account. */
export function rollForwardCsv(report: RollForwardResponseDto): string {
  const row = (owner: { userId?: string; orgId?: string }, p: PeriodFiguresDto) =>
    csvLine([csvText(owner.userId), csvText(owner.orgId), ...PERIOD_COLUMNS.map((c) => p[c])]);
  return [
    csvLine(['userId', 'orgId', ...PERIOD_COLUMNS]),
    ...report.periods.map((p) => row({}, p)),
    ...(report.accounts ?? []).flatMap((account) => account.periods.map((p) => row(account, p))),
  ].join('');
}

/** The liability as CSV: one row per account of the page. */
export function liabilityCsv(report: LiabilityResponseDto): string {
  return [
    csvLine(['userId', 'orgId', 'credits', 'value']),
    ...report.accounts.map((a) => csvLine([csvText(a.userId), csvText(a.orgId), String(a.credits), a.value])),
  ].join('');
}

import { useInfiniteQuery } from '@tanstack/react-query';

import { listBudgetsInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import type { BudgetResponseDto } from '../api/generated/types.gen';
import type { PortalSession } from './account';
import { credits, dateTime } from './format';
import { Cell } from './keys';
import { cursorPaging, LoadMore, pagesOf } from './paging';
import { Failed, Loading } from './status';

const KIND: Record<BudgetResponseDto['scope']['kind'], string> = {
  project: 'Project',
  tag: 'Tag',
  run: 'Run',
  session: 'Session',
};

const PERIOD: Record<BudgetResponseDto['period'], string> = {
  day: 'Per day',
  week: 'Per week',
  month: 'Per month',
  lifetime: 'In total',
};

/**
 * The account's budgets by scope (`GET /api/budgets` with the portal token): what each may spend,
 * what it used and holds, what is left and when its period restarts. Budgets are set by the service
 * the person uses: the page only reads. A table on a desktop, a card per budget on a phone.
 */
export function BudgetsTab({ session }: { session: PortalSession }) {
  const query = session.orgId === null ? { userId: session.userId } : { orgId: session.orgId };
  const budgets = useInfiniteQuery({ ...listBudgetsInfiniteOptions({ query }), ...cursorPaging });
  const rows = pagesOf(budgets.data);
  return (
    <>
      <h2>Budgets</h2>
      <p className="muted">
        Caps on what one project, tag, run or session may spend, beside your balance. They are set by the service you
        use.
      </p>
      {budgets.isError ? (
        <Failed what="the budgets" />
      ) : budgets.isPending ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="muted">No budgets.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="Budgets" tabIndex={0}>
          <table className="stacked">
            <thead>
              <tr>
                <th scope="col">Scope</th>
                <th scope="col" className="num">
                  Limit
                </th>
                <th scope="col" className="num">
                  Used
                </th>
                <th scope="col" className="num">
                  Held
                </th>
                <th scope="col" className="num">
                  Remaining
                </th>
                <th scope="col">Period</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((b) => (
                <tr key={b.budgetId} data-budget={b.budgetId}>
                  <Cell label="Scope">
                    {KIND[b.scope.kind]} <code>{b.scope.id}</code>
                  </Cell>
                  <NumCell label="Limit" value={b.limitCredits} />
                  <NumCell label="Used" value={b.used} />
                  <NumCell label="Held" value={b.held} />
                  <NumCell label="Remaining" value={b.remaining} />
                  <Cell label="Period">
                    {PERIOD[b.period]}
                    {b.resetsAt && <span className="sub">Restarts {dateTime(b.resetsAt)}</span>}
                  </Cell>
                  <Cell label="Status">
                    {b.expired ? 'Expired' : 'Active'}
                    {b.expiresAt && !b.expired && <span className="sub">Until {dateTime(b.expiresAt)}</span>}
                  </Cell>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore query={budgets} />
    </>
  );
}

function NumCell({ label, value }: { label: string; value: number }) {
  return (
    <td className="num">
      <span className="cell-label" aria-hidden="true">
        {label}
      </span>
      <span data-field={label.toLowerCase()}>{credits(value)}</span>
    </td>
  );
}

import { useQuery } from '@tanstack/react-query';

import { getOrgMemberOptions } from '../api/generated/@tanstack/react-query.gen';
import { firstUsageDay, runwayBasis, runwayDays } from '../lib/runway';
import { loadBalance, loadDailyUsage, loadRunway, type PortalSession } from './account';
import { dailyChart } from './chart';
import { DailyUsageChart } from './chart-view';
import { credits, date, utcDayLabel } from './format';
import { Failed, Loading } from './status';

export function BalanceTab({ session }: { session: PortalSession }) {
  const balance = useQuery({ queryKey: ['portal', 'balance', session.id], queryFn: () => loadBalance(session) });
  const daily = useQuery({ queryKey: ['portal', 'daily', session.id], queryFn: () => loadDailyUsage(session) });
  // Over the account's own days when it is younger than the window: from its first day with usage.
  const days = runwayDays(firstUsageDay(daily.data));
  const runway = useQuery({
    queryKey: ['portal', 'runway', session.id, days],
    queryFn: () => loadRunway(session, days),
    enabled: daily.isFetched,
  });
  // In an org: what this member may spend of the pool now (their limit may be lower than the pool).
  const member = useQuery({
    ...getOrgMemberOptions({ path: { orgId: session.orgId ?? '', userId: session.userId } }),
    enabled: session.orgId !== null,
  });
  if (balance.isError) return <Failed what="the balance" />;
  if (!balance.data) return <Loading />;
  const b = balance.data;
  return (
    <>
      <h2>Balance</h2>
      <dl className="figures">
        <div>
          <dt>Available</dt>
          <dd data-testid="available">{credits(b.available)}</dd>
        </div>
        <div>
          <dt>Held by answers in progress</dt>
          <dd data-testid="held">{credits(b.held)}</dd>
        </div>
        <div>
          <dt>Debt</dt>
          <dd data-testid="debt" className={b.debt > 0 ? 'owed' : undefined}>
            {credits(b.debt)}
          </dd>
        </div>
        {runway.data && (
          <div>
            <dt>Runs out at {runwayBasis(days)}</dt>
            <dd data-testid="runs-out">
              {runway.data.runsOutAt === null
                ? 'Not within a year'
                : `${utcDayLabel(runway.data.runsOutAt.slice(0, 10), true)}${runway.data.cause === 'expiry' ? ' (credits expire)' : ''}`}
            </dd>
          </div>
        )}
        {member.data && (
          <div>
            <dt>You may spend now</dt>
            <dd data-testid="may-spend">{credits(member.data.availableCredits)}</dd>
          </div>
        )}
      </dl>
      <h2>Credits by expiry</h2>
      {b.lots === null ? (
        <p className="muted">Your organisation’s owners, admins and billing members see its credits lot by lot.</p>
      ) : b.lots.length === 0 ? (
        <p className="muted">No credits left.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="Credits by expiry" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col" className="num">
                  Credits left
                </th>
                <th scope="col" className="num">
                  Of
                </th>
                <th scope="col">Expires</th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {b.lots.map((lot, i) => (
                <tr key={lot.id} className={i === 0 ? 'soonest' : undefined}>
                  <td className="num">{credits(lot.credits)}</td>
                  <td className="num">{credits(lot.totalCredits)}</td>
                  <td>
                    {date(lot.expiresAt)}
                    {i === 0 && <span className="badge">Expires soonest</span>}
                  </td>
                  <td>{lot.notes ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {daily.data !== null && (
        <>
          <h2>Usage, last 30 days</h2>
          {daily.isError ? (
            <Failed what="the usage" />
          ) : daily.data ? (
            <DailyUsageChart model={dailyChart(daily.data)} />
          ) : (
            <Loading />
          )}
        </>
      )}
    </>
  );
}

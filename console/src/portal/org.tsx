import { useInfiniteQuery, useQuery } from '@tanstack/react-query';

import { getOrgMemberOptions, listOrgMembersInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import type { MemberResponseDto } from '../api/generated/types.gen';
import { isOrgReader, type PortalSession } from './account';
import { credits, dateTime } from './format';
import { cursorPaging, LoadMore, pagesOf } from './paging';
import { Failed, Loading } from './status';

const limitOf = (m: MemberResponseDto): string =>
  m.spendLimit ? `${credits(m.spendLimit.credits)} per ${m.spendLimit.period}` : 'No limit';

export function OrgTab({ session }: { session: PortalSession }) {
  const orgId = session.orgId!;
  const me = useQuery(getOrgMemberOptions({ path: { orgId, userId: session.userId } }));
  const reader = isOrgReader(session);
  const members = useInfiniteQuery({
    ...listOrgMembersInfiniteOptions({ path: { orgId } }),
    ...cursorPaging,
    enabled: reader,
  });
  const rows = pagesOf(members.data);
  return (
    <>
      <h2>Your spending in {orgId}</h2>
      {me.isError ? (
        <Failed what="your limit" />
      ) : !me.data ? (
        <Loading />
      ) : (
        <dl className="figures">
          <div>
            <dt>Your limit</dt>
            <dd>{limitOf(me.data)}</dd>
          </div>
          <div>
            <dt>Spent this period</dt>
            <dd data-testid="spent">{me.data.spentInPeriod === null ? '—' : credits(me.data.spentInPeriod)}</dd>
          </div>
          <div>
            <dt>Resets</dt>
            <dd>{me.data.periodResetsAt ? dateTime(me.data.periodResetsAt) : '—'}</dd>
          </div>
          <div>
            <dt>You may spend now</dt>
            <dd data-testid="may-spend">{credits(me.data.availableCredits)}</dd>
          </div>
        </dl>
      )}
      {reader && (
        <>
          <h2>Members’ spending</h2>
          {members.isError ? (
            <Failed what="the members" />
          ) : members.isPending ? (
            <Loading />
          ) : (
            <div className="table-wrap" role="region" aria-label="Members’ spending" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Member</th>
                    <th scope="col" className="num">
                      Spent this period
                    </th>
                    <th scope="col" className="num">
                      May spend now
                    </th>
                    <th scope="col">Limit</th>
                    <th scope="col">Role</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((m) => (
                    <tr key={m.userId}>
                      <td className="id">{m.userId}</td>
                      <td className="num">{m.spentInPeriod === null ? '—' : credits(m.spentInPeriod)}</td>
                      <td className="num">{credits(m.availableCredits)}</td>
                      <td>{limitOf(m)}</td>
                      <td>{m.role}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <LoadMore query={members} />
        </>
      )}
    </>
  );
}

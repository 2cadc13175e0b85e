import { useInfiniteQuery } from '@tanstack/react-query';

import { listPurchasesInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import type { PurchaseResponseDto } from '../api/generated/types.gen';
import type { PortalSession } from './account';
import { BuyCredits } from './buy';
import { credits, date, money } from './format';
import { cursorPaging, LoadMore, pagesOf } from './paging';
import { Failed, Loading } from './status';

const STATUS: Record<PurchaseResponseDto['status'], string> = {
  pending_payment: 'Awaiting payment',
  paid: 'Paid',
  failed: 'Failed',
  expired: 'Expired',
  partially_refunded: 'Partly refunded',
  refunded: 'Refunded',
  disputed: 'Disputed',
  charged_back: 'Charged back',
};

export function PurchasesTab({ session }: { session: PortalSession }) {
  const query = session.orgId === null ? {} : { orgId: session.orgId };
  const purchases = useInfiniteQuery({ ...listPurchasesInfiniteOptions({ query }), ...cursorPaging });
  const rows = pagesOf(purchases.data);
  return (
    <>
      <h2>Purchases</h2>
      {purchases.isError ? (
        <Failed what="the purchases" />
      ) : purchases.isPending ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="muted">No purchases yet.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="Purchases" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col" className="num">
                  Credits
                </th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.id}>
                  <td>{date(p.createdAt)}</td>
                  <td className="num">{credits(p.credits)}</td>
                  <td className="num">{money(p.amount, p.currency)}</td>
                  <td>
                    {STATUS[p.status]}
                    {p.refundedCredits > 0 && (
                      <span className="sub">
                        {credits(p.refundedCredits)} credits, {money(p.refundedAmount, p.currency)} refunded
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore query={purchases} />
      {session.buyUrl !== null && <BuyCredits session={session} buyUrl={session.buyUrl} />}
    </>
  );
}

import { useQuery } from '@tanstack/react-query';

import type { EntitlementResponseDto } from '../api/generated';
import { listEntitlementsOptions } from '../api/generated/@tanstack/react-query.gen';
import type { PortalSession } from './account';
import { credits, dateTime } from './format';
import { Failed, Loading } from './status';

type Entitlement = EntitlementResponseDto;

/** What the account has of a feature, in words: included or not, a limit per period, a value. */
function allowance(e: Entitlement): string {
  const grant = e.grant as unknown;
  if (grant === null || grant === undefined || grant === false) return 'Not included';
  if (grant === true) return 'Included';
  if (typeof grant === 'object' && 'limit' in grant) {
    const { limit, period } = grant as { limit: number; period: string };
    return period === 'lifetime' ? `${credits(limit)} in all` : `${credits(limit)} a ${period}`;
  }
  if (typeof grant === 'object' && 'value' in grant) return JSON.stringify((grant as { value: unknown }).value);
  return '';
}

/**
 * The account's features (`GET /api/entitlements` with the portal token): what its plan (or an
 * arrangement of its own) includes, and for metered features the use this period and when it resets,
 * in the reader's time zone.
 */
export function FeaturesTab({ session }: { session: PortalSession }) {
  const query = session.orgId === null ? { userId: session.userId } : { orgId: session.orgId };
  const features = useQuery(listEntitlementsOptions({ query }));
  if (features.isError) return <Failed what="the features" />;
  if (!features.data) return <Loading />;
  const items = features.data.items;
  return (
    <>
      <h2>Features</h2>
      <p className="muted">
        What {session.orgId === null ? 'your plan includes' : 'your organisation’s plan includes'}. Features with a
        limit count each use; the count starts again when the period resets.
      </p>
      {items.length === 0 ? (
        <p className="muted">No features.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="Features" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Feature</th>
                <th scope="col">Included</th>
                <th scope="col" className="num">
                  Used
                </th>
                <th scope="col" className="num">
                  Left
                </th>
                <th scope="col">Resets</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.featureKey} className={e.type === 'metered' && e.remaining === 0 ? 'used-up' : undefined}>
                  <th scope="row">{e.name}</th>
                  <td className={e.type === 'config' && e.grant != null ? 'value' : undefined}>{allowance(e)}</td>
                  <td className="num">{e.type === 'metered' && e.used != null ? credits(e.used) : ''}</td>
                  <td className="num">
                    {e.type === 'metered' && e.remaining != null ? credits(e.remaining) : ''}
                    {e.type === 'metered' && e.remaining === 0 && <span className="badge">Used up</span>}
                  </td>
                  <td>{e.type !== 'metered' || e.grant == null ? '' : e.resetsAt ? dateTime(e.resetsAt) : 'Never'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

import { useInfiniteQuery } from '@tanstack/react-query';

import { listPackagesInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import type { PortalSession } from './account';
import { credits, money } from './format';
import { cursorPaging, LoadMore, pagesOf } from './paging';
import { Failed, Loading } from './status';

/**
 * The app's checkout page for one package: its own query kept, the account to credit (the session's:
 * `orgId` for an org session, else `userId`) and the package added. The ids say which account, not
 * who is buying: anyone can edit a link, so the checkout still takes the buyer from its own login and
 * checks there that it is that user, or manages that org.
 */
export function buyHref(buyUrl: string, session: PortalSession, packageId: string): string {
  const url = new URL(buyUrl);
  if (session.orgId !== null) url.searchParams.set('orgId', session.orgId);
  else url.searchParams.set('userId', session.userId);
  url.searchParams.set('packageId', packageId);
  return url.href;
}

/** A package's prices, one per currency (the service lists those in the account's currency first). */
const prices = (list: { amount: string; currency: string }[]) =>
  list.map((x) => money(x.amount, x.currency)).join(' · ');

/** The active packages, each a link to the app's checkout (only when the service names one). */
export function BuyCredits({ session, buyUrl }: { session: PortalSession; buyUrl: string }) {
  const packages = useInfiniteQuery({ ...listPackagesInfiniteOptions({ query: {} }), ...cursorPaging });
  const rows = pagesOf(packages.data).filter((p) => p.active);
  return (
    <section aria-labelledby="buy-heading">
      <h2 id="buy-heading">Buy credits</h2>
      {packages.isError ? (
        <Failed what="the packages" />
      ) : packages.isPending ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="muted">No packages on sale.</p>
      ) : (
        <ul className="packages">
          {rows.map((p) => (
            <li key={p.packageId} className="package">
              <span className="package-name">{p.name}</span>
              <span>
                {credits(p.credits)} credits
                {p.bonusCredits > 0 && <> + {credits(p.bonusCredits)} bonus</>}
              </span>
              <span className="package-price">{prices(p.prices)}</span>
              <a
                className="button"
                href={buyHref(buyUrl, session, p.packageId)}
                target="_top"
                aria-label={`Buy credits: ${p.name}, ${prices(p.prices)}`}
              >
                Buy credits
              </a>
            </li>
          ))}
        </ul>
      )}
      <LoadMore query={packages} />
    </section>
  );
}

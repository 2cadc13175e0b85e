import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';

import { getMeOptions, getOrgOptions } from '../api/generated/@tanstack/react-query.gen';
import { isOrgReader, loadSession, type PortalSession } from './account';
import { BalanceTab } from './balance';
import { BudgetsTab } from './budgets';
import { FeaturesTab } from './features';
import { dateTime } from './format';
import { KeysTab } from './keys';
import { OrgTab } from './org';
import { PlanTab } from './plan';
import { PurchasesTab } from './purchases';
import { acceptOfferedToken, hasEnded, offeredToken, refuseOfferedToken, subscribe } from './session';
import { StatementsTab } from './statements';
import { type Tab, Tabs } from './tabs';
import { UsageTab } from './usage';

export const ENDED = 'Your session has ended or expired: open this page again from the app that sent you here.';

/** The tabs a session shows: what its token may read (a plain org member sees no org usage or purchases). */
function tabsOf(session: PortalSession): Tab[] {
  const reader = session.orgId === null || isOrgReader(session);
  return [
    { id: 'balance', label: 'Balance' },
    ...(reader ? [{ id: 'usage', label: 'Usage' }] : []),
    ...(reader ? [{ id: 'statements', label: 'Statements' }] : []),
    ...(reader ? [{ id: 'purchases', label: 'Purchases' }] : []),
    ...(reader ? [{ id: 'plan', label: 'Plan' }] : []),
    ...(reader ? [{ id: 'budgets', label: 'Budgets' }] : []),
    { id: 'features', label: 'Features' },
    { id: 'keys', label: 'API keys' },
    ...(session.orgId !== null ? [{ id: 'org', label: 'Organisation' }] : []),
  ];
}

export function App() {
  const ended = useSyncExternalStore(subscribe, hasEnded);
  const offered = useSyncExternalStore(subscribe, offeredToken);
  const session = useQuery({
    queryKey: ['portal-session'],
    queryFn: () => loadSession(),
    enabled: !ended && offered === null,
  });
  if (offered !== null) return <SwitchSession />;
  if (ended) {
    return (
      <main className="ended">
        <p>{ENDED}</p>
      </main>
    );
  }
  if (session.isError) {
    return (
      <main className="ended">
        <p role="alert">The service could not be reached; reload the page to try again.</p>
      </main>
    );
  }
  if (!session.data) {
    return (
      <main className="ended">
        <p role="status">Loading…</p>
      </main>
    );
  }
  return <Portal session={session.data} />;
}

/**
 * A link brought another session's token while this tab holds one: nothing is shown or sent until the
 * person chooses (the link may be someone else's session, handed over to catch what they do next).
 */
function SwitchSession() {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <main className="ended">
      <dialog
        ref={dialog}
        aria-labelledby="switch-heading"
        aria-describedby="switch-text"
        onCancel={(e) => {
          e.preventDefault();
          refuseOfferedToken();
        }}
      >
        <h2 id="switch-heading">Open a different session?</h2>
        <p id="switch-text">
          The link you followed opens another portal session, perhaps of another account, in place of the one this page
          shows. Switch only if you asked for this link in your own app.
        </p>
        <p className="actions">
          <button type="button" className="secondary" autoFocus onClick={refuseOfferedToken}>
            Keep my session
          </button>
          <button type="button" onClick={acceptOfferedToken}>
            Switch to the link’s session
          </button>
        </p>
      </dialog>
    </main>
  );
}

function Portal({ session }: { session: PortalSession }) {
  const tabs = tabsOf(session);
  const [active, setActive] = useState(() => {
    const asked = new URLSearchParams(window.location.search).get('tab');
    return tabs.find((t) => t.id === asked)?.id ?? 'balance';
  });
  const me = useQuery(getMeOptions());
  const org = useQuery({ ...getOrgOptions({ path: { orgId: session.orgId ?? '' } }), enabled: session.orgId !== null });
  const select = (id: string) => {
    setActive(id);
    const url = new URL(window.location.href);
    url.searchParams.set('tab', id);
    history.replaceState(null, '', url);
  };
  const who = me.data ? (me.data.email ?? me.data.username ?? me.data.userId) : session.userId;
  return (
    <>
      <header className="top">
        <h1>{session.orgId === null ? 'Your credits' : `Credits of ${org.data?.name ?? session.orgId}`}</h1>
        <p className="muted">
          {who}
          {session.orgRole ? ` · ${session.orgRole}` : ''} · this page works until {dateTime(session.expiresAt)}
        </p>
      </header>
      <main>
        <Tabs label="Your credits" tabs={tabs} active={active} onSelect={select}>
          {active === 'balance' && <BalanceTab session={session} />}
          {active === 'usage' && <UsageTab session={session} />}
          {active === 'statements' && <StatementsTab session={session} />}
          {active === 'purchases' && <PurchasesTab session={session} />}
          {active === 'plan' && <PlanTab session={session} />}
          {active === 'budgets' && <BudgetsTab session={session} />}
          {active === 'features' && <FeaturesTab session={session} />}
          {active === 'keys' && <KeysTab session={session} />}
          {active === 'org' && <OrgTab session={session} />}
        </Tabs>
      </main>
    </>
  );
}

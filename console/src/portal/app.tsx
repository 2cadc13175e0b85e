import { useQuery } from '@tanstack/react-query';
import { useState, useSyncExternalStore } from 'react';

import { getMeOptions, getOrgOptions } from '../api/generated/@tanstack/react-query.gen';
import { isOrgReader, loadSession, type PortalSession } from './account';
import { BalanceTab } from './balance';
import { dateTime } from './format';
import { KeysTab } from './keys';
import { OrgTab } from './org';
import { PurchasesTab } from './purchases';
import { hasEnded, subscribe } from './session';
import { type Tab, Tabs } from './tabs';
import { UsageTab } from './usage';

export const ENDED = 'Your session has ended or expired: open this page again from the app that sent you here.';

/** The tabs a session shows: what its token may read (a plain org member sees no org usage or purchases). */
function tabsOf(session: PortalSession): Tab[] {
  const reader = session.orgId === null || isOrgReader(session);
  return [
    { id: 'balance', label: 'Balance' },
    ...(reader ? [{ id: 'usage', label: 'Usage' }] : []),
    ...(reader ? [{ id: 'purchases', label: 'Purchases' }] : []),
    { id: 'keys', label: 'API keys' },
    ...(session.orgId !== null ? [{ id: 'org', label: 'Organisation' }] : []),
  ];
}

export function App() {
  const ended = useSyncExternalStore(subscribe, hasEnded);
  const session = useQuery({ queryKey: ['portal-session'], queryFn: () => loadSession(), enabled: !ended });
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
          {active === 'purchases' && <PurchasesTab session={session} />}
          {active === 'keys' && <KeysTab session={session} />}
          {active === 'org' && <OrgTab session={session} />}
        </Tabs>
      </main>
    </>
  );
}

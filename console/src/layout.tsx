import { AppShell, Burger, Button, Group, NavLink, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQueryClient } from '@tanstack/react-query';
import { Link, Outlet } from '@tanstack/react-router';

import { signOut } from './api/session';
import { useOperator } from './auth';

const NAV = [
  { to: '/', label: 'Overview' },
  { to: '/users', label: 'Users' },
  { to: '/orgs', label: 'Organisations' },
  { to: '/review', label: 'Review queue' },
  { to: '/pricing', label: 'Pricing' },
  { to: '/catalog', label: 'Catalogue' },
  { to: '/plans', label: 'Plans' },
  { to: '/features', label: 'Features' },
  { to: '/packages', label: 'Packages' },
  { to: '/promotions', label: 'Promotions' },
  { to: '/finance', label: 'Finance' },
  { to: '/exports', label: 'Exports' },
  { to: '/webhooks', label: 'Webhooks' },
  { to: '/events', label: 'Events' },
  { to: '/emails', label: 'Emails' },
  { to: '/audit', label: 'Audit log' },
] as const;

/**
 * The console's frame: a header and the navigation, beside the screen from `sm` (768 px) up; below,
 * the navigation folds away behind the header's menu button and closes again once a screen is picked.
 */
export function Layout() {
  const operator = useOperator();
  const queryClient = useQueryClient();
  const [menu, { toggle, close }] = useDisclosure(false);
  return (
    <AppShell
      header={{ height: 52 }}
      navbar={{ width: 200, breakpoint: 'sm', collapsed: { mobile: !menu } }}
      padding={{ base: 'xs', sm: 'md' }}
    >
      <AppShell.Header px="md">
        <Group h="100%" justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <Burger opened={menu} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Text fw={700} truncate>
              Accounting console
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" c="dimmed" visibleFrom="sm">
              {operator.userId} · {operator.role}
            </Text>
            <Button
              variant="subtle"
              size="xs"
              onClick={() => {
                queryClient.clear();
                signOut();
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Console">
        {NAV.map((item) => (
          <NavLink
            key={item.to}
            component={Link}
            to={item.to}
            label={item.label}
            activeOptions={{ exact: item.to === '/' }}
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main style={{ minWidth: 0 }}>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}

/** The screen's main heading. */
export function ScreenTitle({ children }: { children: React.ReactNode }) {
  return (
    <Title order={1} size="h2" mb="md">
      {children}
    </Title>
  );
}

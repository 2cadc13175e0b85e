import { Group, SimpleGrid, Stack, Tabs, Text, Title } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useParams } from '@tanstack/react-router';

import { getUserOverviewOptions, listAllocationsInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { cursorPaging, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { Stat } from '../components/stat';
import { utc } from '../lib/format';
import { AccountBudgets } from './account-budgets';
import { AccountFeatures } from './account-features';
import { AccountPricing } from './account-pricing';
import { AccountRunway } from './account-runway';
import { type Allocation, AllocationTable, GrantCredits } from './allocations';
import { EventList } from './events';
import { PlanControl } from './plan-control';
import { Purchases } from './purchases';
import { TransferCredits, Transfers } from './transfer-credits';
import { UserLedger, UserUsage } from './user-activity';
import { UserLimits, UserSessions } from './user-details';
import { EraseUser } from './user-erase';
import { UserApiKeys } from './user-keys';

export function UserScreen() {
  const { userId } = useParams({ from: '/users/$userId' });
  const operator = useOperator();
  // One call for the header: balance, debt, plan, limits and thresholds (GET /api/users/:userId).
  const overview = useQuery(getUserOverviewOptions({ path: { userId } }));
  const user = overview.data;

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          {userId}
        </Title>
        <Group gap="sm">
          <TransferCredits account={{ userId }} />
          {/* Separation of duties: a supervisor may not grant to their own account (SELF_GRANT_FORBIDDEN). */}
          {/* An erased person is granted nothing (409 ACCOUNT_ERASED): no Grant button. */}
          {(operator.isAdmin || operator.userId !== userId) && user?.erasedAt == null && (
            <GrantCredits account={{ userId }} />
          )}
          {operator.isAdmin && user && <EraseUser userId={userId} erased={user.erasedAt != null} />}
        </Group>
      </Group>
      {user && (
        <Text c="dimmed" size="sm">
          {user.email ?? 'no email'} · {user.username ?? 'no username'} · role {user.role} · since {utc(user.createdAt)}{' '}
          · {user.subscription ? `plan ${user.subscription.planId}` : 'no plan'}
          {user.erasedAt != null && ` · erased ${utc(user.erasedAt)}`}
        </Text>
      )}
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
        <Stat label="Available credits" value={user?.totalCredits} />
        <Stat label="Held credits" value={user?.heldCredits} />
        <Stat label="Debt" value={user?.debt} />
        <AccountRunway account={{ userId }} since={user?.createdAt} />
      </SimpleGrid>
      <Tabs defaultValue="allocations" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="allocations">Allocations</Tabs.Tab>
          <Tabs.Tab value="ledger">Ledger</Tabs.Tab>
          <Tabs.Tab value="transfers">Transfers</Tabs.Tab>
          <Tabs.Tab value="usage">Usage</Tabs.Tab>
          {operator.isAdmin && <Tabs.Tab value="keys">API keys</Tabs.Tab>}
          <Tabs.Tab value="limits">Limits and alerts</Tabs.Tab>
          <Tabs.Tab value="plan">Plan</Tabs.Tab>
          <Tabs.Tab value="pricing">Pricing</Tabs.Tab>
          <Tabs.Tab value="features">Features</Tabs.Tab>
          <Tabs.Tab value="budgets">Budgets</Tabs.Tab>
          <Tabs.Tab value="purchases">Purchases</Tabs.Tab>
          <Tabs.Tab value="sessions">Sessions</Tabs.Tab>
          {operator.isAdmin && <Tabs.Tab value="events">Events</Tabs.Tab>}
        </Tabs.List>
        <Tabs.Panel value="allocations" pt="md">
          <Allocations userId={userId} />
        </Tabs.Panel>
        <Tabs.Panel value="ledger" pt="md">
          <UserLedger userId={userId} />
        </Tabs.Panel>
        <Tabs.Panel value="transfers" pt="md">
          <Transfers query={{ userId }} />
        </Tabs.Panel>
        <Tabs.Panel value="usage" pt="md">
          <UserUsage userId={userId} />
        </Tabs.Panel>
        {operator.isAdmin && (
          <Tabs.Panel value="keys" pt="md">
            <UserApiKeys userId={userId} />
          </Tabs.Panel>
        )}
        <Tabs.Panel value="limits" pt="md">
          <UserLimits userId={userId} />
        </Tabs.Panel>
        <Tabs.Panel value="plan" pt="md">
          <PlanControl account={{ userId }} />
        </Tabs.Panel>
        <Tabs.Panel value="pricing" pt="md">
          <AccountPricing account={{ userId }} planId={user?.subscription?.planId} />
        </Tabs.Panel>
        <Tabs.Panel value="features" pt="md">
          <AccountFeatures account={{ userId }} />
        </Tabs.Panel>
        <Tabs.Panel value="budgets" pt="md">
          <AccountBudgets account={{ userId }} />
        </Tabs.Panel>
        <Tabs.Panel value="purchases" pt="md">
          <Purchases account={{ userId }} />
        </Tabs.Panel>
        <Tabs.Panel value="sessions" pt="md">
          <UserSessions userId={userId} />
        </Tabs.Panel>
        {operator.isAdmin && (
          <Tabs.Panel value="events" pt="md">
            <EventList query={{ userId }} />
          </Tabs.Panel>
        )}
      </Tabs>
    </Stack>
  );
}

function Allocations({ userId }: { userId: string }) {
  const allocations = useInfiniteQuery({
    ...listAllocationsInfiniteOptions({ query: { userId, includeExpired: true } }),
    ...cursorPaging,
  });
  const items = pagesOf(allocations.data) as Allocation[];
  return (
    <>
      <AllocationTable account={{ userId }} items={items} />
      <LoadMore {...allocations} empty={allocations.isSuccess && items.length === 0} />
    </>
  );
}

import { Alert, Group, SimpleGrid, Stack, Tabs, Text, Title } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';

import {
  getOrgOptions,
  getOrgSubscriptionOptions,
  getOrgUsageStatsOptions,
  listOrgAllocationsInfiniteOptions,
} from '../api/generated/@tanstack/react-query.gen';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { Stat } from '../components/stat';
import { credits, errorMessage, utc, utcDaysAgo } from '../lib/format';
import { AccountBudgets } from './account-budgets';
import { AccountFeatures } from './account-features';
import { AccountPricing } from './account-pricing';
import { AccountRunway } from './account-runway';
import { type Allocation, AllocationTable, GrantCredits } from './allocations';
import { OrgLedger, OrgLimits } from './org-account';
import { OrgMembers } from './org-members';
import { PlanControl } from './plan-control';
import { Purchases } from './purchases';
import { TransferCredits, Transfers } from './transfer-credits';

export function OrgScreen() {
  const { orgId } = useParams({ from: '/orgs/$orgId' });
  const org = useQuery(getOrgOptions({ path: { orgId } }));
  const account = { orgId };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          {orgId}
        </Title>
        {/* A supervisor who is a member may not grant or transfer into it: the dialog shows the 403. */}
        <Group gap="sm">
          <TransferCredits account={account} />
          <GrantCredits account={account} />
        </Group>
      </Group>
      {org.data && (
        <Text c="dimmed" size="sm">
          {org.data.name} · {credits(org.data.memberCount)} active {org.data.memberCount === 1 ? 'member' : 'members'} ·
          since {utc(org.data.createdAt)}
        </Text>
      )}
      {org.isError && (
        <Alert color="red" role="alert">
          {errorMessage(org.error)}
        </Alert>
      )}
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
        <Stat label="Available credits" value={org.data?.totalCredits} />
        <Stat label="Held credits" value={org.data?.heldCredits} />
        <Stat label="Debt" value={org.data?.debt} />
        <AccountRunway account={{ orgId }} since={org.data?.createdAt} />
      </SimpleGrid>
      <Tabs defaultValue="members" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="members">Members</Tabs.Tab>
          <Tabs.Tab value="usage">Usage by member</Tabs.Tab>
          <Tabs.Tab value="allocations">Allocations</Tabs.Tab>
          <Tabs.Tab value="ledger">Ledger</Tabs.Tab>
          <Tabs.Tab value="transfers">Transfers</Tabs.Tab>
          <Tabs.Tab value="purchases">Purchases</Tabs.Tab>
          <Tabs.Tab value="limits">Limits</Tabs.Tab>
          <Tabs.Tab value="plan">Plan</Tabs.Tab>
          <Tabs.Tab value="pricing">Pricing</Tabs.Tab>
          <Tabs.Tab value="features">Features</Tabs.Tab>
          <Tabs.Tab value="budgets">Budgets</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="members" pt="md">
          <OrgMembers orgId={orgId} />
        </Tabs.Panel>
        <Tabs.Panel value="usage" pt="md">
          <UsageByMember orgId={orgId} />
        </Tabs.Panel>
        <Tabs.Panel value="allocations" pt="md">
          <OrgAllocations orgId={orgId} />
        </Tabs.Panel>
        <Tabs.Panel value="ledger" pt="md">
          <OrgLedger orgId={orgId} />
        </Tabs.Panel>
        <Tabs.Panel value="transfers" pt="md">
          <Transfers query={{ orgId }} />
        </Tabs.Panel>
        <Tabs.Panel value="purchases" pt="md">
          <Purchases account={{ orgId }} />
        </Tabs.Panel>
        <Tabs.Panel value="limits" pt="md">
          <OrgLimits orgId={orgId} />
        </Tabs.Panel>
        <Tabs.Panel value="plan" pt="md">
          <PlanControl account={{ orgId }} />
        </Tabs.Panel>
        <Tabs.Panel value="pricing" pt="md">
          <OrgPricing orgId={orgId} models={org.data?.models} />
        </Tabs.Panel>
        <Tabs.Panel value="features" pt="md">
          <AccountFeatures account={account} />
        </Tabs.Panel>
        <Tabs.Panel value="budgets" pt="md">
          <AccountBudgets account={account} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function OrgPricing({ orgId, models }: { orgId: string; models: string[] | null | undefined }) {
  // A 404 here is "no live subscription": the org has no plan.
  const subscription = useQuery({ ...getOrgSubscriptionOptions({ path: { orgId } }), retry: false });
  return <AccountPricing account={{ orgId }} planId={subscription.data?.planId ?? null} orgModels={models} />;
}

function OrgAllocations({ orgId }: { orgId: string }) {
  const allocations = useInfiniteQuery({
    ...listOrgAllocationsInfiniteOptions({ path: { orgId }, query: { includeExpired: true } }),
    ...cursorPaging,
  });
  if (allocations.isError) return <Failed error={allocations.error} />;
  const items = pagesOf(allocations.data) as Allocation[];
  return (
    <>
      <AllocationTable account={{ orgId }} items={items} />
      <LoadMore {...allocations} empty={allocations.isSuccess && items.length === 0} />
    </>
  );
}

function UsageByMember({ orgId }: { orgId: string }) {
  const startDate = utcDaysAgo(29);
  const stats = useQuery(getOrgUsageStatsOptions({ path: { orgId }, query: { startDate } }));
  if (stats.isError) return <Failed error={stats.error} />;
  const rows = Object.entries(stats.data?.byMember ?? {})
    .map(([userId, spent]) => ({ userId, spent }))
    .sort((a, b) => b.spent - a.spent || a.userId.localeCompare(b.userId));
  const total = stats.data?.totalCredits;
  return (
    <Stack>
      <Text size="sm">
        Last 30 UTC days (since {startDate}): {credits(total)} credits in {credits(stats.data?.totalRecords)} records
      </Text>
      <DataTable
        label="Usage by member"
        rows={rows}
        rowKey={(row) => row.userId}
        columns={[
          {
            label: 'Member',
            render: (row) => (
              <Link to="/users/$userId" params={{ userId: row.userId }}>
                {row.userId}
              </Link>
            ),
          },
          { label: 'Credits', render: (row) => credits(row.spent), numeric: true },
          {
            label: 'Share',
            // Integer percent, rounded down: display only, never summed back.
            render: (row) => (total ? `${Math.floor((row.spent * 100) / total)} %` : '—'),
            numeric: true,
          },
        ]}
      />
      {stats.isSuccess && rows.length === 0 && <Empty />}
    </Stack>
  );
}

function Empty() {
  return (
    <Text c="dimmed" ta="center" py="md">
      Nothing here.
    </Text>
  );
}

function Failed({ error }: { error: unknown }) {
  return (
    <Alert color="red" role="alert">
      {errorMessage(error)}
    </Alert>
  );
}

import {
  Button,
  Card,
  Group,
  NumberInput,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useParams } from '@tanstack/react-router';
import { useState } from 'react';

import type { AllocationResponseDto } from '../api/generated';
import {
  allocateCreditsMutation,
  getUserOverviewOptions,
  listAllocationsOptions,
  voidAllocationMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';
import { EventList } from './events';
import { Purchases } from './purchases';
import { UserLedger, UserUsage } from './user-activity';
import { UserLimits, UserPlan, UserSessions } from './user-details';
import { UserApiKeys } from './user-keys';

/** Allocation views add the void details in the contract's version 3. */
type Allocation = AllocationResponseDto & {
  voidedAt?: string | null;
  voidedBy?: string | null;
  voidReason?: string | null;
};

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
        {/* Separation of duties: a supervisor may not grant to their own account (SELF_GRANT_FORBIDDEN). */}
        {(operator.isAdmin || operator.userId !== userId) && <GrantCredits userId={userId} />}
      </Group>
      {user && (
        <Text c="dimmed" size="sm">
          {user.email ?? 'no email'} · {user.username ?? 'no username'} · role {user.role} · since {utc(user.createdAt)}{' '}
          · {user.subscription ? `plan ${user.subscription.planId}` : 'no plan'}
        </Text>
      )}
      <SimpleGrid cols={3}>
        <Stat label="Available credits" value={user?.totalCredits} />
        <Stat label="Held credits" value={user?.heldCredits} />
        <Stat label="Debt" value={user?.debt} />
      </SimpleGrid>
      <Tabs defaultValue="allocations" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="allocations">Allocations</Tabs.Tab>
          <Tabs.Tab value="ledger">Ledger</Tabs.Tab>
          <Tabs.Tab value="usage">Usage</Tabs.Tab>
          {operator.isAdmin && <Tabs.Tab value="keys">API keys</Tabs.Tab>}
          <Tabs.Tab value="limits">Limits and alerts</Tabs.Tab>
          <Tabs.Tab value="plan">Plan</Tabs.Tab>
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
          <UserPlan userId={userId} />
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

function Stat({ label, value }: { label: string; value: number | undefined }) {
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} aria-label={label}>
        {credits(value)}
      </Text>
    </Card>
  );
}

function GrantCredits({ userId }: { userId: string }) {
  const invalidate = useInvalidate();
  const [amount, setAmount] = useState<string | number>('');
  const [days, setDays] = useState<string | number>(30);
  const [notes, setNotes] = useState('');
  const grant = useMutation({
    ...allocateCreditsMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate(affected.userCredits(userId));
    },
  });
  const dialog = useCommandDialog(() => {
    grant.reset();
    setAmount('');
    setDays(30);
    setNotes('');
  });
  return (
    <>
      <Button onClick={() => dialog.open(true)}>Grant credits</Button>
      <ActionDialog
        title={`Grant credits to ${userId}`}
        dialog={dialog}
        submitLabel="Grant"
        pending={grant.isPending}
        error={grant.error}
        onSubmit={() =>
          grant.mutate({
            body: { userId, credits: Number(amount), expiryDays: Number(days), ...(notes ? { notes } : {}) },
            headers: dialog.headers,
          })
        }
      >
        <NumberInput
          label="Credits"
          value={amount}
          onChange={setAmount}
          min={1}
          allowDecimal={false}
          allowNegative={false}
          required
          data-autofocus
        />
        <NumberInput
          label="Expires in days"
          value={days}
          onChange={setDays}
          min={1}
          max={3650}
          allowDecimal={false}
          allowNegative={false}
          required
        />
        <TextInput label="Notes" value={notes} onChange={(e) => setNotes(e.currentTarget.value)} maxLength={500} />
      </ActionDialog>
    </>
  );
}

function Allocations({ userId }: { userId: string }) {
  const operator = useOperator();
  const allocations = useQuery(listAllocationsOptions({ query: { userId, includeExpired: true, limit: 500 } }));
  const invalidate = useInvalidate();
  const [reason, setReason] = useState('');
  const voidIt = useMutation({
    ...voidAllocationMutation(),
    onSuccess: () => {
      voiding.close();
      void invalidate(affected.userCredits(userId));
    },
  });
  const voiding = useCommandDialog<Allocation>(() => {
    voidIt.reset();
    setReason('');
  });
  const target = voiding.subject;
  const items = (allocations.data?.items ?? []) as Allocation[];
  return (
    <>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Allocation</Table.Th>
            <Table.Th>Source</Table.Th>
            <Table.Th ta="right">Granted</Table.Th>
            <Table.Th ta="right">Left</Table.Th>
            <Table.Th>Allocated (UTC)</Table.Th>
            <Table.Th>Expires (UTC)</Table.Th>
            <Table.Th>Notes</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((allocation) => (
            <Table.Tr key={allocation.id}>
              <Table.Td ff="monospace" fz="xs">
                {allocation.id}
              </Table.Td>
              <Table.Td>{allocation.source}</Table.Td>
              <Table.Td ta="right">{credits(allocation.totalCredits)}</Table.Td>
              <Table.Td ta="right">{credits(allocation.remainingCredits)}</Table.Td>
              <Table.Td>{utc(allocation.allocatedAt)}</Table.Td>
              <Table.Td>{utc(allocation.expiresAt)}</Table.Td>
              <Table.Td>{allocation.notes ?? ''}</Table.Td>
              <Table.Td>
                {allocation.voidedAt ? (
                  <Text size="xs" c="dimmed">
                    voided {utc(allocation.voidedAt)} by {allocation.voidedBy}
                    {allocation.voidReason ? `: ${allocation.voidReason}` : ''}
                  </Text>
                ) : (
                  operator.isAdmin &&
                  allocation.remainingCredits > 0 &&
                  Date.parse(allocation.expiresAt) > Date.now() && (
                    <Button size="xs" color="red" variant="light" onClick={() => voiding.open(allocation)}>
                      Void
                    </Button>
                  )
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <ActionDialog
        title={`Void ${credits(target?.remainingCredits)} credits left on this allocation`}
        dialog={voiding}
        submitLabel="Void allocation"
        color="red"
        pending={voidIt.isPending}
        error={voidIt.error}
        onSubmit={() =>
          target &&
          voidIt.mutate({
            path: { id: target.id },
            body: reason ? { reason } : {},
            headers: voiding.headers,
          })
        }
      >
        <Textarea
          label="Reason"
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          maxLength={500}
          required
          data-autofocus
        />
      </ActionDialog>
    </>
  );
}

import { Button, Group, NumberInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { exportUsageRecordsCsv, type LedgerEntryDto } from '../api/generated';
import {
  abortSessionMutation,
  deleteSubscriptionMutation,
  getAlertThresholdsOptions,
  getCreditLimitsOptions,
  getSubscriptionOptions,
  getUserUsageStatsOptions,
  listApiKeysOptions,
  listEventsInfiniteOptions,
  listLedgerInfiniteOptions,
  listPlansOptions,
  listUsageRecordsInfiniteOptions,
  listUserActiveSessionsOptions,
  putSubscriptionMutation,
  revokeApiKeyMutation,
  setAlertThresholdsMutation,
  setCreditLimitsMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog, useDialog } from '../components/action-dialog';
import { DailyChart } from '../components/daily-chart';
import { DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { credits, errorMessage, utc, utcDaysAgo } from '../lib/format';
import { newIdempotencyKey } from '../lib/idempotency';

const cursorPaging = {
  initialPageParam: undefined as unknown as string,
  getNextPageParam: (last: { nextCursor: string | null }) => last.nextCursor ?? undefined,
};

type Kind = LedgerEntryDto['kind'];
const KINDS: Kind[] = ['grant', 'debit', 'hold', 'release', 'expire', 'void', 'rollover', 'repay', 'overdraft'];

export function UserLedger({ userId }: { userId: string }) {
  const [kind, setKind] = useState<Kind | null>(null);
  const query = { userId, kind: kind ?? undefined };
  const ledger = useInfiniteQuery({ ...listLedgerInfiniteOptions({ query }), ...cursorPaging });
  const rows = pagesOf(ledger.data);
  return (
    <Stack>
      <Select
        label="Kind"
        placeholder="Every kind"
        data={KINDS}
        value={kind}
        onChange={(value) => setKind(value as Kind | null)}
        clearable
        w={200}
      />
      <DataTable<LedgerEntryDto>
        label="Ledger"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.createdAt) },
          { label: 'Kind', render: (row) => row.kind },
          { label: 'Amount', render: (row) => credits(row.amount), numeric: true },
          { label: 'Balance after', render: (row) => credits(row.balanceAfter), numeric: true },
          { label: 'Allocation', render: (row) => row.allocationId ?? '—' },
          { label: 'By', render: (row) => row.createdBy },
        ]}
      />
      <LoadMore {...ledger} empty={ledger.isSuccess && rows.length === 0} />
    </Stack>
  );
}

export function UserUsage({ userId }: { userId: string }) {
  const startDate = utcDaysAgo(29);
  const stats = useQuery(getUserUsageStatsOptions({ path: { userId }, query: { startDate } }));
  const records = useInfiniteQuery({ ...listUsageRecordsInfiniteOptions({ query: { userId } }), ...cursorPaging });
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const days = Array.from({ length: 30 }, (_, i) => utcDaysAgo(29 - i));
  const rows = pagesOf(records.data);

  const download = async () => {
    setDownloadError(null);
    const { data, error } = await exportUsageRecordsCsv({ query: { userId }, parseAs: 'text' });
    if (error !== undefined || typeof data !== 'string') return setDownloadError(errorMessage(error));
    const url = URL.createObjectURL(new Blob([data], { type: 'text/csv' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `usage-${userId}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <Stack>
      {stats.data && (
        <DailyChart
          title="Credits per UTC day, last 30 days"
          days={days}
          series={[{ label: 'Credits', color: '#228be6', values: days.map((day) => stats.data.byDay[day] ?? 0) }]}
        />
      )}
      <Group>
        <Text size="sm">
          Last 30 UTC days: {credits(stats.data?.totalCredits)} credits in {credits(stats.data?.totalRecords)} records
        </Text>
        <Button variant="light" size="xs" onClick={() => void download()}>
          Download CSV
        </Button>
        {downloadError && <Text c="red">{downloadError}</Text>}
      </Group>
      <DataTable
        label="Usage records"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.timestamp) },
          { label: 'Service', render: (row) => row.service },
          { label: 'Operation', render: (row) => row.operation },
          { label: 'Model', render: (row) => row.modelId ?? '—' },
          { label: 'Credits', render: (row) => credits(row.credits), numeric: true },
          { label: 'Billing', render: (row) => row.billingStatus },
        ]}
      />
      <LoadMore {...records} empty={records.isSuccess && rows.length === 0} />
    </Stack>
  );
}

export function UserApiKeys({ userId }: { userId: string }) {
  const queryClient = useQueryClient();
  const keys = useQuery(listApiKeysOptions({ query: { userId } }));
  const revoke = useMutation({ ...revokeApiKeyMutation(), onSuccess: () => void queryClient.invalidateQueries() });
  return (
    <DataTable
      label="API keys"
      rows={keys.data?.items ?? []}
      rowKey={(row) => row.id}
      columns={[
        { label: 'Name', render: (row) => row.name },
        { label: 'Prefix', render: (row) => row.prefix },
        { label: 'Scopes', render: (row) => row.permissions.join(', ') },
        {
          label: 'Budget',
          render: (row) => (row.creditLimit == null ? 'none' : `${credits(row.creditLimit)} / ${row.limitPeriod}`),
        },
        { label: 'Last used (UTC)', render: (row) => utc(row.lastUsed) },
        { label: 'State', render: (row) => (row.isActive ? 'active' : 'revoked') },
        {
          label: 'Actions',
          render: (row) =>
            row.isActive && (
              <Button size="xs" color="red" variant="light" onClick={() => revoke.mutate({ path: { id: row.id } })}>
                Revoke
              </Button>
            ),
        },
      ]}
    />
  );
}

export function UserLimits({ userId }: { userId: string }) {
  const operator = useOperator();
  const queryClient = useQueryClient();
  const limits = useQuery(getCreditLimitsOptions({ path: { userId } }));
  const alerts = useQuery(getAlertThresholdsOptions({ path: { userId } }));
  const limitsDialog = useDialog();
  const alertsDialog = useDialog();
  const [overdraft, setOverdraft] = useState<string | number>('');
  const [perHour, setPerHour] = useState<string | number>('');
  const [thresholds, setThresholds] = useState('');
  const setLimits = useMutation({
    ...setCreditLimitsMutation(),
    onSuccess: () => (limitsDialog.close(), void queryClient.invalidateQueries()),
  });
  const setAlerts = useMutation({
    ...setAlertThresholdsMutation(),
    onSuccess: () => (alertsDialog.close(), void queryClient.invalidateQueries()),
  });
  return (
    <Stack>
      <Text>
        Overdraft limit: {credits(limits.data?.overdraftLimit)} · Max credits per hour:{' '}
        {limits.data?.maxCreditsPerHour == null ? 'none' : credits(limits.data.maxCreditsPerHour)} · Debt:{' '}
        {credits(limits.data?.debt)}
      </Text>
      <Text>
        Low-balance alerts below:{' '}
        {alerts.data ? alerts.data.thresholds.map((t) => credits(t)).join(', ') || 'none' : '—'}
        {alerts.data?.source === 'default' ? ' (the service default)' : ''}
      </Text>
      <Group>
        {operator.isAdmin && (
          <Button
            variant="light"
            onClick={() => {
              setOverdraft(limits.data?.overdraftLimit ?? 0);
              setPerHour(limits.data?.maxCreditsPerHour ?? '');
              limitsDialog.open();
            }}
          >
            Set limits
          </Button>
        )}
        <Button
          variant="light"
          onClick={() => {
            setThresholds((alerts.data?.thresholds ?? []).join(', '));
            alertsDialog.open();
          }}
        >
          Set alert thresholds
        </Button>
      </Group>
      <ActionDialog
        title="Limits"
        opened={limitsDialog.opened}
        onClose={limitsDialog.close}
        submitLabel="Save limits"
        pending={setLimits.isPending}
        error={setLimits.error}
        onSubmit={() =>
          setLimits.mutate({
            path: { userId },
            body: { overdraftLimit: Number(overdraft), maxCreditsPerHour: perHour === '' ? null : Number(perHour) },
            headers: { 'Idempotency-Key': limitsDialog.idempotencyKey },
          })
        }
      >
        <NumberInput label="Overdraft limit" value={overdraft} onChange={setOverdraft} min={0} allowDecimal={false} />
        <NumberInput
          label="Max credits per hour (empty: none)"
          value={perHour}
          onChange={setPerHour}
          min={1}
          allowDecimal={false}
        />
      </ActionDialog>
      <ActionDialog
        title="Low-balance alert thresholds"
        opened={alertsDialog.opened}
        onClose={alertsDialog.close}
        submitLabel="Save thresholds"
        pending={setAlerts.isPending}
        error={setAlerts.error}
        onSubmit={() =>
          setAlerts.mutate({
            path: { userId },
            body: {
              thresholds: thresholds
                .split(',')
                .filter((t) => t.trim() !== '')
                .map((t) => Number.parseInt(t.trim(), 10)),
            },
            headers: { 'Idempotency-Key': alertsDialog.idempotencyKey },
          })
        }
      >
        <TextInput
          label="Thresholds (comma-separated credits)"
          value={thresholds}
          onChange={(e) => setThresholds(e.currentTarget.value)}
        />
      </ActionDialog>
    </Stack>
  );
}

export function UserPlan({ userId }: { userId: string }) {
  const queryClient = useQueryClient();
  const subscription = useQuery({ ...getSubscriptionOptions({ path: { userId } }), retry: false });
  const plans = useQuery(listPlansOptions());
  const [planId, setPlanId] = useState<string | null>(null);
  const [key, setKey] = useState(newIdempotencyKey);
  const done = () => (setKey(newIdempotencyKey()), void queryClient.invalidateQueries());
  const put = useMutation({ ...putSubscriptionMutation(), onSuccess: done });
  const remove = useMutation({ ...deleteSubscriptionMutation(), onSuccess: done });
  const current = subscription.data;
  return (
    <Stack>
      <Text>
        {current
          ? `Plan ${current.planId}, period ${utc(current.currentPeriodStart)} – ${utc(current.currentPeriodEnd)}, next grant ${utc(current.nextGrantAt)}`
          : 'No plan.'}
      </Text>
      <Group align="end">
        <Select
          label="Plan"
          data={(plans.data?.items ?? []).map((p) => ({
            value: p.id,
            label: `${p.name} (${credits(p.credits)} / ${p.period})`,
          }))}
          value={planId}
          onChange={setPlanId}
        />
        <Button
          disabled={!planId}
          loading={put.isPending}
          onClick={() =>
            planId && put.mutate({ path: { userId }, body: { planId }, headers: { 'Idempotency-Key': key } })
          }
        >
          Subscribe
        </Button>
        {current && (
          <Button
            color="red"
            variant="light"
            loading={remove.isPending}
            onClick={() => remove.mutate({ path: { userId } })}
          >
            End subscription
          </Button>
        )}
      </Group>
      {(put.error ?? remove.error) && <Text c="red">{errorMessage(put.error ?? remove.error)}</Text>}
    </Stack>
  );
}

export function UserSessions({ userId }: { userId: string }) {
  const operator = useOperator();
  const queryClient = useQueryClient();
  const sessions = useQuery(listUserActiveSessionsOptions({ path: { userId } }));
  const abort = useMutation({ ...abortSessionMutation(), onSuccess: () => void queryClient.invalidateQueries() });
  return (
    <DataTable
      label="Active sessions"
      rows={sessions.data?.items ?? []}
      rowKey={(row) => row.sessionId}
      columns={[
        { label: 'Session', render: (row) => row.sessionId },
        { label: 'Model', render: (row) => row.modelId },
        { label: 'Held', render: (row) => credits(row.allocatedCredits), numeric: true },
        { label: 'Started (UTC)', render: (row) => utc(row.startedAt) },
        { label: 'Expires (UTC)', render: (row) => utc(row.expiresAt) },
        {
          label: 'Actions',
          render: (row) =>
            operator.isAdmin && (
              <Button
                size="xs"
                color="red"
                variant="light"
                onClick={() =>
                  abort.mutate({
                    body: { sessionId: row.sessionId, userId },
                    headers: { 'Idempotency-Key': newIdempotencyKey() },
                  })
                }
              >
                Abort
              </Button>
            ),
        },
      ]}
    />
  );
}

export function UserEvents({ userId }: { userId: string }) {
  const events = useInfiniteQuery({ ...listEventsInfiniteOptions({ query: { userId } }), ...cursorPaging });
  const rows = pagesOf(events.data);
  return (
    <>
      <DataTable
        label="Events"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.createdAt) },
          { label: 'Type', render: (row) => row.type },
          { label: 'Data', render: (row) => <code>{JSON.stringify(row.data)}</code> },
        ]}
      />
      <LoadMore {...events} empty={events.isSuccess && rows.length === 0} />
    </>
  );
}

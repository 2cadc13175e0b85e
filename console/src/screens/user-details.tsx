import { Button, Group, NumberInput, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import {
  abortSessionMutation,
  getAlertThresholdsOptions,
  getCreditLimitsOptions,
  listUserActiveSessionsOptions,
  setAlertThresholdsMutation,
  setCreditLimitsMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { DataTable } from '../components/data-table';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

export function UserLimits({ userId }: { userId: string }) {
  const operator = useOperator();
  const invalidate = useInvalidate();
  const limits = useQuery(getCreditLimitsOptions({ path: { userId } }));
  const alerts = useQuery(getAlertThresholdsOptions({ path: { userId } }));
  const [overdraft, setOverdraft] = useState<string | number>('');
  const [perHour, setPerHour] = useState<string | number>('');
  const [thresholds, setThresholds] = useState('');
  const setLimits = useMutation({
    ...setCreditLimitsMutation(),
    onSuccess: () => {
      limitsDialog.close();
      void invalidate(affected.limits(userId));
    },
  });
  const setAlerts = useMutation({
    ...setAlertThresholdsMutation(),
    onSuccess: () => {
      alertsDialog.close();
      void invalidate(affected.alerts(userId));
    },
  });
  // Each opening starts from the values now in force.
  const limitsDialog = useCommandDialog(() => {
    setLimits.reset();
    setOverdraft(limits.data?.overdraftLimit ?? 0);
    setPerHour(limits.data?.maxCreditsPerHour ?? '');
  });
  const alertsDialog = useCommandDialog(() => {
    setAlerts.reset();
    setThresholds((alerts.data?.thresholds ?? []).join(', '));
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
          <Button variant="light" onClick={() => limitsDialog.open(true)}>
            Set limits
          </Button>
        )}
        <Button variant="light" onClick={() => alertsDialog.open(true)}>
          Set alert thresholds
        </Button>
      </Group>
      <ActionDialog
        title="Limits"
        dialog={limitsDialog}
        submitLabel="Save limits"
        pending={setLimits.isPending}
        error={setLimits.error}
        onSubmit={() =>
          setLimits.mutate({
            path: { userId },
            body: { overdraftLimit: Number(overdraft), maxCreditsPerHour: perHour === '' ? null : Number(perHour) },
            headers: limitsDialog.headers,
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
        dialog={alertsDialog}
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
            headers: alertsDialog.headers,
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

export function UserSessions({ userId }: { userId: string }) {
  const operator = useOperator();
  const invalidate = useInvalidate();
  const sessions = useQuery(listUserActiveSessionsOptions({ path: { userId } }));
  const abort = useMutation({
    ...abortSessionMutation(),
    onSuccess: () => {
      abortDialog.close();
      void invalidate(affected.session(userId));
    },
  });
  const abortDialog = useCommandDialog<{ sessionId: string; allocatedCredits: number }>(() => abort.reset());
  const aborting = abortDialog.subject;
  return (
    <>
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
                <Button size="xs" color="red" variant="light" onClick={() => abortDialog.open(row)}>
                  Abort
                </Button>
              ),
          },
        ]}
      />
      {/* A stuck session, settled as cut off before any token: nothing charged, the hold given back. */}
      <ActionDialog
        title={`Abort the session ${aborting?.sessionId ?? ''}`}
        dialog={abortDialog}
        submitLabel="Abort session"
        color="red"
        pending={abort.isPending}
        error={abort.error}
        onSubmit={() =>
          aborting &&
          abort.mutate({
            body: { sessionId: aborting.sessionId, userId },
            headers: abortDialog.headers,
          })
        }
      >
        <Text>
          Settles it now as cut off before any token: nothing is charged and its hold of{' '}
          {credits(aborting?.allocatedCredits)} credits goes back to the user. A stream still running then ends
          unbilled.
        </Text>
      </ActionDialog>
    </>
  );
}

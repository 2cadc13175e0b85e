import { Button, Group, NumberInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import {
  abortSessionMutation,
  deleteSubscriptionMutation,
  getAlertThresholdsOptions,
  getCreditLimitsOptions,
  getUserOverviewOptions,
  listPlansOptions,
  listUserActiveSessionsOptions,
  putSubscriptionMutation,
  setAlertThresholdsMutation,
  setCreditLimitsMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog, useDialog } from '../components/action-dialog';
import { DataTable } from '../components/data-table';
import { credits, errorMessage, utc } from '../lib/format';
import { newIdempotencyKey } from '../lib/idempotency';

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
  const operator = useOperator();
  // The user overview carries the subscription (null when none): no 404 to read.
  const overview = useQuery(getUserOverviewOptions({ path: { userId } }));
  const mayChange = operator.isAdmin || operator.userId !== userId; // SELF_GRANT_FORBIDDEN for supervisors
  const plans = useQuery(listPlansOptions());
  const [planId, setPlanId] = useState<string | null>(null);
  const [key, setKey] = useState(newIdempotencyKey);
  const done = () => (setKey(newIdempotencyKey()), void queryClient.invalidateQueries());
  const put = useMutation({ ...putSubscriptionMutation(), onSuccess: done });
  const remove = useMutation({ ...deleteSubscriptionMutation(), onSuccess: done });
  const current = overview.data?.subscription;
  return (
    <Stack>
      <Text>
        {current
          ? `Plan ${current.planId}, period ${utc(current.currentPeriodStart)} – ${utc(current.currentPeriodEnd)}, next grant ${utc(current.nextGrantAt)}`
          : 'No plan.'}
      </Text>
      {mayChange && (
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
      )}
      {(put.error ?? remove.error) && <Text c="red">{errorMessage(put.error ?? remove.error)}</Text>}
    </Stack>
  );
}

export function UserSessions({ userId }: { userId: string }) {
  const operator = useOperator();
  const queryClient = useQueryClient();
  const sessions = useQuery(listUserActiveSessionsOptions({ path: { userId } }));
  const abortDialog = useDialog();
  const [aborting, setAborting] = useState<{ sessionId: string; allocatedCredits: number } | null>(null);
  const abort = useMutation({
    ...abortSessionMutation(),
    onSuccess: () => (abortDialog.close(), void queryClient.invalidateQueries()),
  });
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
                <Button
                  size="xs"
                  color="red"
                  variant="light"
                  onClick={() => {
                    abort.reset();
                    setAborting(row);
                    abortDialog.open();
                  }}
                >
                  Abort
                </Button>
              ),
          },
        ]}
      />
      {/* A stuck session, settled as cut off before any token: nothing charged, the hold given back. */}
      <ActionDialog
        title={`Abort the session ${aborting?.sessionId ?? ''}`}
        opened={abortDialog.opened}
        onClose={abortDialog.close}
        submitLabel="Abort session"
        color="red"
        pending={abort.isPending}
        error={abort.error}
        onSubmit={() =>
          aborting &&
          abort.mutate({
            body: { sessionId: aborting.sessionId, userId },
            headers: { 'Idempotency-Key': abortDialog.idempotencyKey },
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

import { Button, Group, NumberInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import {
  abortSessionMutation,
  deleteSubscriptionMutation,
  getAlertThresholdsOptions,
  getCreditLimitsOptions,
  getUserOverviewOptions,
  listPlansOptions,
  listUserActiveSessionsOptions,
  previewSubscriptionMutation,
  putSubscriptionMutation,
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

type Timing = 'now' | 'period_end';
type Allowance = 'difference' | 'prorated' | 'full';
type Anchor = 'keep' | 'restart';

export function UserPlan({ userId }: { userId: string }) {
  const operator = useOperator();
  const invalidate = useInvalidate();
  // The user overview carries the subscription (null when none): no 404 to read.
  const overview = useQuery(getUserOverviewOptions({ path: { userId } }));
  const mayChange = operator.isAdmin || operator.userId !== userId; // SELF_GRANT_FORBIDDEN for supervisors
  const plans = useQuery(listPlansOptions());
  const [planId, setPlanId] = useState<string | null>(null);
  const [timing, setTiming] = useState<Timing>('now');
  const [allowance, setAllowance] = useState<Allowance>('difference');
  const [anchor, setAnchor] = useState<Anchor>('keep');
  const change = planId ? { planId, timing, allowance, anchor } : null;
  const done = () => {
    subscribe.close();
    end.close();
    void invalidate(affected.subscription(userId));
  };
  const put = useMutation({ ...putSubscriptionMutation(), onSuccess: done });
  const remove = useMutation({ ...deleteSubscriptionMutation(), onSuccess: done });
  // What the change would do, asked of the API (it writes nothing); asked again when the form changes.
  const preview = useMutation(previewSubscriptionMutation());
  const current = overview.data?.subscription;
  const subscribe = useCommandDialog(() => {
    put.reset();
    preview.reset();
    setPlanId(current?.planId ?? null);
    setTiming('now');
    setAllowance('difference');
    setAnchor('keep');
  });
  const said = preview.data;
  const end = useCommandDialog(() => remove.reset());
  return (
    <Stack>
      <Text>
        {current
          ? `Plan ${current.planId}, period ${utc(current.currentPeriodStart)} – ${utc(current.currentPeriodEnd)}, next grant ${utc(current.nextGrantAt)}`
          : 'No plan.'}
      </Text>
      {current?.scheduledChange && (
        <Text>
          Scheduled change: plan {current.scheduledChange.planId} from {utc(current.scheduledChange.effectiveAt)}
        </Text>
      )}
      {mayChange && (
        <Group>
          <Button onClick={() => subscribe.open(true)}>{current ? 'Change plan' : 'Subscribe'}</Button>
          {current && (
            <Button color="red" variant="light" onClick={() => end.open(true)}>
              End subscription
            </Button>
          )}
        </Group>
      )}
      <ActionDialog
        title={`Subscribe ${userId} to a plan`}
        dialog={subscribe}
        submitLabel="Subscribe"
        pending={put.isPending}
        error={put.error}
        onSubmit={() => change && put.mutate({ path: { userId }, body: change, headers: subscribe.headers })}
      >
        <Select
          label="Plan"
          data={(plans.data?.items ?? [])
            .filter((p) => p.isActive)
            .map((p) => ({ value: p.id, label: `${p.name} (${credits(p.credits)} / ${p.period})` }))}
          value={planId}
          onChange={(v) => (setPlanId(v), preview.reset())}
          required
        />
        <Select
          label="When"
          data={[
            { value: 'now', label: 'Now' },
            { value: 'period_end', label: 'At the end of the period' },
          ]}
          value={timing}
          onChange={(v) => (setTiming((v ?? 'now') as Timing), preview.reset())}
        />
        <Select
          label="Allowance"
          data={[
            { value: 'difference', label: 'The difference' },
            { value: 'prorated', label: 'Prorated' },
            { value: 'full', label: 'Full (new period)' },
          ]}
          value={allowance}
          onChange={(v) => {
            const next = (v ?? 'difference') as Allowance;
            setAllowance(next);
            if (next === 'full') setAnchor('restart');
            preview.reset();
          }}
        />
        <Select
          label="Period"
          data={[
            { value: 'keep', label: 'Keep the period' },
            { value: 'restart', label: 'Start a new period' },
          ]}
          value={anchor}
          onChange={(v) => (setAnchor((v ?? 'keep') as Anchor), preview.reset())}
        />
        <Group>
          <Button
            variant="light"
            disabled={!change}
            loading={preview.isPending}
            onClick={() => change && preview.mutate({ path: { userId }, body: change })}
          >
            Preview
          </Button>
        </Group>
        {said && (
          <Text aria-label="Preview">
            {`Grants ${credits(said.creditsGrantedNow)} credits now, takes effect ${utc(said.effectiveAt)}; period ` +
              `${utc(said.currentPeriodStart)} – ${utc(said.currentPeriodEnd)}, next grant ${utc(said.nextGrantAt)}; ` +
              `${said.lots.length} ${said.lots.length === 1 ? 'lot' : 'lots'} (${credits(said.lots.reduce((n, l) => n + l.credits, 0))} credits) stay as they are`}
          </Text>
        )}
        {preview.isError && (
          <Text c="red">The change is refused: {String((preview.error as { message?: unknown }).message)}</Text>
        )}
      </ActionDialog>
      <ActionDialog
        title={`End the subscription of ${userId}`}
        dialog={end}
        submitLabel="End subscription"
        color="red"
        pending={remove.isPending}
        error={remove.error}
        onSubmit={() => remove.mutate({ path: { userId }, headers: end.headers })}
      >
        <Text>No further grants from plan {current?.planId}; credits already granted stay until they expire.</Text>
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

import { Alert, Button, Group, Select, Stack, Text } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import {
  deleteOrgSubscriptionMutation,
  deleteSubscriptionMutation,
  getOrgMemberOptions,
  getOrgSubscriptionOptions,
  getUserOverviewOptions,
  listPlansOptions,
  previewOrgSubscriptionMutation,
  previewSubscriptionMutation,
  putOrgSubscriptionMutation,
  putSubscriptionMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { type Account, accountName } from '../lib/account';
import { credits, errorMessage, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

type Timing = 'now' | 'period_end';
type Allowance = 'difference' | 'prorated' | 'full';
type Anchor = 'keep' | 'restart';

/**
 * The subscription an account holds: the user overview carries a user's (null when none); an org's
 * is its own route, whose 404 is "no plan".
 */
function useSubscription(account: Account) {
  const user = useQuery({
    ...getUserOverviewOptions({ path: { userId: account.userId ?? '' } }),
    enabled: account.orgId === undefined,
  });
  const org = useQuery({
    ...getOrgSubscriptionOptions({ path: { orgId: account.orgId ?? '' } }),
    enabled: account.orgId !== undefined,
    retry: false,
  });
  if (account.orgId === undefined) return { current: user.data?.subscription ?? null, error: user.error };
  const none = org.isError && (org.error as { statusCode?: unknown }).statusCode === 404;
  return { current: org.data ?? null, error: none ? null : org.error };
}

/**
 * Whether the operator may change the account's plan: a supervisor may not change their own, nor an
 * org's they are an active member of (SELF_GRANT_FORBIDDEN); admins may.
 */
function useMayChange(account: Account): boolean {
  const operator = useOperator();
  const membership = useQuery({
    ...getOrgMemberOptions({ path: { orgId: account.orgId ?? '', userId: operator.userId } }),
    enabled: !operator.isAdmin && account.orgId !== undefined,
    retry: false,
  });
  if (operator.isAdmin) return true;
  if (account.orgId === undefined) return operator.userId !== account.userId;
  return membership.isError || (membership.data !== undefined && membership.data.removedAt !== null);
}

/**
 * An account's plan and the control that changes it: the plan with its period and a scheduled change,
 * and a dialog with the change's options (when, allowance, period) whose preview is asked of the API
 * (it writes nothing) before the change is made. The same for a user and an org.
 */
export function PlanControl({ account }: { account: Account }) {
  const invalidate = useInvalidate();
  const { current, error } = useSubscription(account);
  const mayChange = useMayChange(account);
  const plans = useQuery(listPlansOptions());
  const [planId, setPlanId] = useState<string | null>(null);
  const [timing, setTiming] = useState<Timing>('now');
  const [allowance, setAllowance] = useState<Allowance>('difference');
  const [anchor, setAnchor] = useState<Anchor>('keep');
  const change = planId ? { planId, timing, allowance, anchor } : null;
  const done = () => {
    subscribe.close();
    end.close();
    void invalidate(affected.subscription(account));
  };
  const putUser = useMutation({ ...putSubscriptionMutation(), onSuccess: done });
  const putOrg = useMutation({ ...putOrgSubscriptionMutation(), onSuccess: done });
  const removeUser = useMutation({ ...deleteSubscriptionMutation(), onSuccess: done });
  const removeOrg = useMutation({ ...deleteOrgSubscriptionMutation(), onSuccess: done });
  // What the change would do, asked of the API (it writes nothing); asked again when the form changes.
  const previewUser = useMutation(previewSubscriptionMutation());
  const previewOrg = useMutation(previewOrgSubscriptionMutation());
  const isOrg = account.orgId !== undefined;
  const put = isOrg ? putOrg : putUser;
  const remove = isOrg ? removeOrg : removeUser;
  const preview = isOrg ? previewOrg : previewUser;
  const resetPreview = () => (previewUser.reset(), previewOrg.reset());
  const subscribe = useCommandDialog(() => {
    putUser.reset();
    putOrg.reset();
    resetPreview();
    setPlanId(current?.planId ?? null);
    setTiming('now');
    setAllowance('difference');
    setAnchor('keep');
  });
  const end = useCommandDialog(() => (removeUser.reset(), removeOrg.reset()));
  const send = {
    put: (headers: Record<string, string>) =>
      change &&
      (account.orgId !== undefined
        ? putOrg.mutate({ path: { orgId: account.orgId }, body: change, headers })
        : putUser.mutate({ path: { userId: account.userId }, body: change, headers })),
    preview: () =>
      change &&
      (account.orgId !== undefined
        ? previewOrg.mutate({ path: { orgId: account.orgId }, body: change })
        : previewUser.mutate({ path: { userId: account.userId }, body: change })),
    remove: (headers: Record<string, string>) =>
      account.orgId !== undefined
        ? removeOrg.mutate({ path: { orgId: account.orgId }, headers })
        : removeUser.mutate({ path: { userId: account.userId }, headers }),
  };
  if (error)
    return (
      <Alert color="red" role="alert">
        {errorMessage(error)}
      </Alert>
    );
  const said = preview.data;
  const name = accountName(account);
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
        title={`Subscribe ${name} to a plan`}
        dialog={subscribe}
        submitLabel="Subscribe"
        pending={put.isPending}
        error={put.error}
        onSubmit={() => send.put(subscribe.headers)}
      >
        <Select
          label="Plan"
          data={(plans.data?.items ?? [])
            .filter((p) => p.isActive)
            .map((p) => ({ value: p.id, label: `${p.name} (${credits(p.credits)} / ${p.period})` }))}
          value={planId}
          onChange={(v) => (setPlanId(v), resetPreview())}
          required
        />
        <Select
          label="When"
          data={[
            { value: 'now', label: 'Now' },
            { value: 'period_end', label: 'At the end of the period' },
          ]}
          value={timing}
          onChange={(v) => (setTiming((v ?? 'now') as Timing), resetPreview())}
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
            resetPreview();
          }}
        />
        <Select
          label="Period"
          data={[
            { value: 'keep', label: 'Keep the period' },
            { value: 'restart', label: 'Start a new period' },
          ]}
          value={anchor}
          onChange={(v) => (setAnchor((v ?? 'keep') as Anchor), resetPreview())}
        />
        <Group>
          <Button variant="light" disabled={!change} loading={preview.isPending} onClick={send.preview}>
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
        {preview.isError && <Text c="red">The change is refused: {errorMessage(preview.error)}</Text>}
      </ActionDialog>
      <ActionDialog
        title={`End the subscription of ${name}`}
        dialog={end}
        submitLabel="End subscription"
        color="red"
        pending={remove.isPending}
        error={remove.error}
        onSubmit={() => send.remove(end.headers)}
      >
        <Text>No further grants from plan {current?.planId}; credits already granted stay until they expire.</Text>
      </ActionDialog>
    </Stack>
  );
}

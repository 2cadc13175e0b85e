import { Alert, Group, Radio, Text } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import type { FeatureResponseDto, PlanWithCountResponseDto, SetEntitlementData } from '../api/generated';
import { setEntitlementMutation, updatePlanMutation } from '../api/generated/@tanstack/react-query.gen';
import { ActionDialog } from '../components/action-dialog';
import { GrantFields } from '../components/grant-fields';
import { type Account, accountName, accountRef } from '../lib/account';
import { type FeatureType, type Grant, grantForm, grantOf, grantText, planFeatures } from '../lib/grants';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

export interface PlanGrantSubject {
  feature: FeatureResponseDto;
  plan: PlanWithCountResponseDto;
}

type Mode = 'grant' | 'none';

/** What a grant dialog edits: set a grant, or none (the plan's removed, or the override removed). */
function useGrantForm() {
  const [mode, setMode] = useState<Mode>('grant');
  const [form, setForm] = useState(grantForm(undefined));
  const [invalid, setInvalid] = useState<string | null>(null);
  return {
    mode,
    setMode,
    form,
    setForm,
    invalid,
    setInvalid,
    reset: (current: unknown) => {
      setMode('grant');
      setForm(grantForm(current));
      setInvalid(null);
    },
    /** The grant to send (null for none), or undefined after showing why the form says none. */
    read(type: FeatureType): Grant | null | undefined {
      if (mode === 'none') return null;
      const result = grantOf(type, form);
      if ('error' in result) {
        setInvalid(result.error);
        return undefined;
      }
      setInvalid(null);
      return result.grant;
    },
  };
}

function GrantChoice({
  grant,
  type,
  noneLabel,
}: {
  grant: ReturnType<typeof useGrantForm>;
  type: FeatureType;
  noneLabel: string;
}) {
  return (
    <>
      <Radio.Group label="Grant" value={grant.mode} onChange={(v) => grant.setMode(v as Mode)}>
        <Group mt="xs">
          <Radio value="grant" label="Set a grant" />
          <Radio value="none" label={noneLabel} />
        </Group>
      </Radio.Group>
      {grant.mode === 'grant' && <GrantFields type={type} form={grant.form} onChange={grant.setForm} />}
      {grant.invalid && (
        <Alert color="red" role="alert">
          {grant.invalid}
        </Alert>
      )}
    </>
  );
}

const planGrantOf = (subject: PlanGrantSubject): unknown => planFeatures(subject.plan)[subject.feature.featureKey];

/**
 * A plan's grant of one feature (`PATCH /api/plans/:id` with the plan's whole `features` map): the
 * dialog's state, opened by `open({feature, plan})` with the grant in force and a fresh key.
 */
export function usePlanGrantDialog() {
  const invalidate = useInvalidate();
  const grant = useGrantForm();
  const update = useMutation({
    ...updatePlanMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate([...affected.plans(), ...affected.allEntitlements()]);
    },
  });
  const dialog = useCommandDialog<PlanGrantSubject>((subject) => {
    grant.reset(planGrantOf(subject));
    update.reset();
  });
  return { dialog, grant, update };
}

export function PlanGrantDialog({ state }: { state: ReturnType<typeof usePlanGrantDialog> }) {
  const { dialog, grant, update } = state;
  const subject = dialog.subject;
  const current = subject ? planGrantOf(subject) : undefined;
  return (
    <ActionDialog
      title={subject ? `${subject.feature.name} on plan ${subject.plan.name}` : ''}
      dialog={dialog}
      submitLabel="Save grant"
      pending={update.isPending}
      error={update.error}
      onSubmit={() => {
        if (!subject) return;
        const next = grant.read(subject.feature.type);
        if (next === undefined) return;
        const key = subject.feature.featureKey;
        const { [key]: _old, ...rest } = planFeatures(subject.plan);
        const features = next === null ? rest : { ...rest, [key]: next };
        update.mutate({ path: { id: subject.plan.id }, body: { features }, headers: dialog.headers });
      }}
    >
      <Text size="sm">
        Now: {grantText(current)}. Subscribers of {subject?.plan.id} are checked against the new grant as soon as it is
        saved.
      </Text>
      {subject && <GrantChoice grant={grant} type={subject.feature.type} noneLabel="No grant on this plan" />}
    </ActionDialog>
  );
}

export interface OverrideSubject {
  featureKey: string;
  name: string;
  type: FeatureType;
  /** The account's override, when it has one. */
  override: unknown;
}

/** An account's override of one feature (`PUT /api/entitlements/:featureKey`; `grant: null` removes it). */
export function useOverrideDialog(account: Account) {
  const invalidate = useInvalidate();
  const grant = useGrantForm();
  const set = useMutation({
    ...setEntitlementMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate(affected.entitlements(account));
    },
  });
  const dialog = useCommandDialog<OverrideSubject>((subject) => {
    grant.reset(subject.override);
    set.reset();
  });
  return { account, dialog, grant, set };
}

export function OverrideDialog({ state }: { state: ReturnType<typeof useOverrideDialog> }) {
  const { account, dialog, grant, set } = state;
  const subject = dialog.subject;
  return (
    <ActionDialog
      title={subject ? `Override of ${subject.featureKey} for ${accountName(account)}` : ''}
      dialog={dialog}
      submitLabel="Save override"
      pending={set.isPending}
      error={set.error}
      onSubmit={() => {
        if (!subject) return;
        const next = grant.read(subject.type);
        if (next === undefined) return;
        set.mutate({
          path: { featureKey: subject.featureKey },
          // A config grant's value is any JSON the form parsed (lib/grants.ts), as the DTO says.
          body: { ...accountRef(account), grant: next as SetEntitlementData['body']['grant'] },
          headers: dialog.headers,
        });
      }}
    >
      <Text size="sm">
        An override wins over the plan&apos;s grant; without one the plan decides. Checks answer by it as soon as it is
        saved.
      </Text>
      {subject && <GrantChoice grant={grant} type={subject.type} noneLabel="No override (the plan decides)" />}
    </ActionDialog>
  );
}

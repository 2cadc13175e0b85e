import { Badge, Button, Group, NumberInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import type { PlanWithCountResponseDto } from '../api/generated';
import { createPlanMutation, listPlansOptions, updatePlanMutation } from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { DataTable } from '../components/data-table';
import { ScreenTitle } from '../layout';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

export function PlansScreen() {
  const operator = useOperator();
  const plans = useQuery(listPlansOptions());
  const toggle = useCommandDialog<PlanWithCountResponseDto>(() => update.reset());
  const invalidate = useInvalidate();
  const update = useMutation({
    ...updatePlanMutation(),
    onSuccess: () => {
      toggle.close();
      void invalidate(affected.plans());
    },
  });
  const plan = toggle.subject;
  return (
    <Stack>
      <Group justify="space-between">
        <ScreenTitle>Plans</ScreenTitle>
        {operator.isAdmin && <NewPlan />}
      </Group>
      <DataTable
        label="Plans"
        rows={plans.data?.items ?? []}
        rowKey={(row) => row.id}
        columns={[
          { label: 'Plan', render: (row) => `${row.name} (${row.id})` },
          { label: 'State', render: (row) => <PlanState active={row.isActive} /> },
          { label: 'Credits', render: (row) => credits(row.credits), numeric: true },
          { label: 'Period', render: (row) => row.period },
          { label: 'Rollover cap', render: (row) => credits(row.rolloverCap), numeric: true },
          { label: 'Subscribers', render: (row) => credits(row.subscriberCount), numeric: true },
          { label: 'Created (UTC)', render: (row) => utc(row.createdAt) },
          ...(operator.isAdmin
            ? [
                {
                  label: 'Actions',
                  render: (row: PlanWithCountResponseDto) => (
                    <Button
                      size="xs"
                      variant="light"
                      color={row.isActive ? 'red' : undefined}
                      onClick={() => toggle.open(row)}
                    >
                      {row.isActive ? 'Deactivate' : 'Activate'}
                    </Button>
                  ),
                },
              ]
            : []),
        ]}
      />
      <ActionDialog
        title={plan ? `${plan.isActive ? 'Deactivate' : 'Activate'} the plan ${plan.name}` : ''}
        dialog={toggle}
        submitLabel={plan?.isActive ? 'Deactivate plan' : 'Activate plan'}
        color={plan?.isActive ? 'red' : undefined}
        pending={update.isPending}
        error={update.error}
        onSubmit={() =>
          plan && update.mutate({ path: { id: plan.id }, body: { isActive: !plan.isActive }, headers: toggle.headers })
        }
      >
        <Text>
          {plan?.isActive
            ? `Its ${credits(plan.subscriberCount)} subscribers get no further grants; nobody new can subscribe.`
            : 'Subscribers get their grants again from their next period; users can subscribe.'}
        </Text>
      </ActionDialog>
    </Stack>
  );
}

/** A plan's state as words (a badge), whoever looks: not only as the label of an admin's button. */
function PlanState({ active }: { active: boolean }) {
  return (
    <Badge color={active ? 'green' : 'gray'} variant="light">
      {active ? 'active' : 'inactive'}
    </Badge>
  );
}

const EMPTY_PLAN = {
  id: '',
  name: '',
  credits: '' as string | number,
  period: 'month',
  rolloverCap: 0 as string | number,
};

function NewPlan() {
  const invalidate = useInvalidate();
  const [form, setForm] = useState(EMPTY_PLAN);
  const create = useMutation({
    ...createPlanMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate(affected.plans());
    },
  });
  const dialog = useCommandDialog(() => {
    setForm(EMPTY_PLAN);
    create.reset();
  });
  return (
    <>
      <Button onClick={() => dialog.open(true)}>New plan</Button>
      <ActionDialog
        title="New plan"
        dialog={dialog}
        submitLabel="Create plan"
        pending={create.isPending}
        error={create.error}
        onSubmit={() =>
          create.mutate({
            body: {
              id: form.id,
              name: form.name,
              credits: Number(form.credits),
              period: form.period as 'day' | 'week' | 'month',
              rolloverCap: Number(form.rolloverCap),
            },
            headers: dialog.headers,
          })
        }
      >
        <TextInput
          label="Plan id"
          value={form.id}
          onChange={(e) => setForm({ ...form, id: e.currentTarget.value })}
          required
        />
        <TextInput
          label="Name"
          value={form.name}
          onChange={(e) => setForm({ ...form, name: e.currentTarget.value })}
          required
        />
        <NumberInput
          label="Credits per period"
          value={form.credits}
          onChange={(v) => setForm({ ...form, credits: v })}
          min={1}
          allowDecimal={false}
          required
        />
        <Select
          label="Period"
          data={['day', 'week', 'month']}
          value={form.period}
          onChange={(v) => setForm({ ...form, period: v ?? 'month' })}
          allowDeselect={false}
        />
        <NumberInput
          label="Rollover cap"
          value={form.rolloverCap}
          onChange={(v) => setForm({ ...form, rolloverCap: v })}
          min={0}
          allowDecimal={false}
        />
      </ActionDialog>
    </>
  );
}

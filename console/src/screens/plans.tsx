import { Button, Group, NumberInput, Select, Stack, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { createPlanMutation, listPlansOptions, updatePlanMutation } from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog, useDialog } from '../components/action-dialog';
import { DataTable } from '../components/data-table';
import { ScreenTitle } from '../layout';
import { credits, utc } from '../lib/format';
import { newIdempotencyKey } from '../lib/idempotency';

export function PlansScreen() {
  const operator = useOperator();
  const queryClient = useQueryClient();
  const plans = useQuery(listPlansOptions());
  const update = useMutation({ ...updatePlanMutation(), onSuccess: () => void queryClient.invalidateQueries() });
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
          { label: 'Credits', render: (row) => credits(row.credits), numeric: true },
          { label: 'Period', render: (row) => row.period },
          { label: 'Rollover cap', render: (row) => credits(row.rolloverCap), numeric: true },
          { label: 'Subscribers', render: (row) => credits(row.subscriberCount), numeric: true },
          { label: 'Created (UTC)', render: (row) => utc(row.createdAt) },
          {
            label: 'State',
            render: (row) =>
              operator.isAdmin ? (
                <Button
                  size="xs"
                  variant="light"
                  onClick={() => update.mutate({ path: { id: row.id }, body: { isActive: !row.isActive } })}
                >
                  {row.isActive ? 'Deactivate' : 'Activate'}
                </Button>
              ) : row.isActive ? (
                'active'
              ) : (
                'inactive'
              ),
          },
        ]}
      />
    </Stack>
  );
}

function NewPlan() {
  const dialog = useDialog();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({
    id: '',
    name: '',
    credits: '' as string | number,
    period: 'month',
    rolloverCap: 0 as string | number,
  });
  const create = useMutation({
    ...createPlanMutation(),
    onSuccess: () => (dialog.close(), void queryClient.invalidateQueries()),
  });
  return (
    <>
      <Button onClick={() => (create.reset(), dialog.open())}>New plan</Button>
      <ActionDialog
        title="New plan"
        opened={dialog.opened}
        onClose={dialog.close}
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
            headers: { 'Idempotency-Key': dialog.idempotencyKey ?? newIdempotencyKey() },
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

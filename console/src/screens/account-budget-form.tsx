import { Button, Group, NumberInput, Select, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import type { BudgetResponseDto, CreateBudgetDto } from '../api/generated';
import { createBudgetMutation, updateBudgetMutation } from '../api/generated/@tanstack/react-query.gen';
import { ActionDialog } from '../components/action-dialog';
import { type Account, accountName, accountRef } from '../lib/account';
import { useCommandDialog } from '../lib/idempotency';

const KINDS = ['project', 'tag', 'run', 'session'] as const;
const PERIODS = ['month', 'week', 'day', 'lifetime'] as const;

/** Every budget list and read: a budget made or changed shows wherever budgets are listed. */
function useBudgetsChanged() {
  const queryClient = useQueryClient();
  return () =>
    queryClient.invalidateQueries({
      predicate: (query) => /budget/i.test(String((query.queryKey[0] as { _id?: unknown } | undefined)?._id ?? '')),
    });
}

/** `expiresAt` from a `datetime-local` field, read as UTC (the console shows every time in UTC). */
const utcInstant = (local: string) => (local ? new Date(`${local}:00Z`).toISOString() : undefined);

/**
 * New budget (POST /api/budgets): its id, the scope it caps (a project, tag, run or session of the
 * account), an optional parent budget of the same account, the limit, the UTC period it resets in
 * and an optional expiry. The API refuses what it must (a chain deeper than 5, a parent of another
 * account) and the dialog shows its sentence.
 */
export function NewBudget({ account }: { account: Account }) {
  const changed = useBudgetsChanged();
  const [budgetId, setBudgetId] = useState('');
  const [kind, setKind] = useState<(typeof KINDS)[number]>('project');
  const [scopeId, setScopeId] = useState('');
  const [parent, setParent] = useState('');
  const [limit, setLimit] = useState<string | number>('');
  const [period, setPeriod] = useState<(typeof PERIODS)[number]>('month');
  const [expires, setExpires] = useState('');
  const create = useMutation({
    ...createBudgetMutation(),
    onSuccess: () => {
      dialog.close();
      void changed();
    },
  });
  const dialog = useCommandDialog(() => {
    create.reset();
    setBudgetId('');
    setKind('project');
    setScopeId('');
    setParent('');
    setLimit('');
    setPeriod('month');
    setExpires('');
  });
  const body: CreateBudgetDto = {
    ...accountRef(account),
    budgetId: budgetId.trim(),
    scope: { kind, id: scopeId.trim() },
    limitCredits: Number(limit),
    period,
    ...(parent.trim() ? { parentBudgetId: parent.trim() } : {}),
    ...(expires ? { expiresAt: utcInstant(expires) } : {}),
  };
  return (
    <>
      <Group>
        <Button variant="light" onClick={() => dialog.open(true)}>
          New budget
        </Button>
      </Group>
      <ActionDialog
        title={`New budget for ${accountName(accountRef(account))}`}
        dialog={dialog}
        submitLabel="Create budget"
        pending={create.isPending}
        error={create.error}
        onSubmit={() => create.mutate({ body, headers: dialog.headers })}
      >
        <TextInput
          label="Budget id"
          value={budgetId}
          onChange={(e) => setBudgetId(e.currentTarget.value)}
          required
          maxLength={100}
          data-autofocus
        />
        <Group grow align="start">
          <Select
            label="Scope"
            data={[...KINDS]}
            value={kind}
            onChange={(value) => value && setKind(value as (typeof KINDS)[number])}
            allowDeselect={false}
          />
          <TextInput
            label="Scope id"
            value={scopeId}
            onChange={(e) => setScopeId(e.currentTarget.value)}
            required
            maxLength={100}
          />
        </Group>
        <TextInput
          label="Under budget (optional)"
          value={parent}
          onChange={(e) => setParent(e.currentTarget.value)}
          maxLength={100}
        />
        <Group grow align="start">
          <NumberInput
            label="Limit (credits)"
            value={limit}
            onChange={setLimit}
            min={1}
            allowDecimal={false}
            allowNegative={false}
            required
          />
          <Select
            label="Period (UTC)"
            data={[...PERIODS]}
            value={period}
            onChange={(value) => value && setPeriod(value as (typeof PERIODS)[number])}
            allowDeselect={false}
          />
        </Group>
        <TextInput
          type="datetime-local"
          label="Expires (UTC, optional)"
          value={expires}
          onChange={(e) => setExpires(e.currentTarget.value)}
        />
      </ActionDialog>
    </>
  );
}

/** A budget's Edit button and dialog (PATCH /api/budgets/:id): its limit and expiry; its scope stays. */
export function EditBudget({ budget }: { budget: BudgetResponseDto }) {
  const changed = useBudgetsChanged();
  const [limit, setLimit] = useState<string | number>(budget.limitCredits);
  const [expires, setExpires] = useState('');
  const update = useMutation({
    ...updateBudgetMutation(),
    onSuccess: () => {
      dialog.close();
      void changed();
    },
  });
  const dialog = useCommandDialog(() => {
    update.reset();
    setLimit(budget.limitCredits);
    setExpires(budget.expiresAt ? budget.expiresAt.slice(0, 16) : '');
  });
  return (
    <>
      <Button
        size="compact-xs"
        variant="light"
        onClick={() => dialog.open(true)}
        aria-label={`Edit ${budget.budgetId}`}
      >
        Edit
      </Button>
      <ActionDialog
        title={`Edit budget ${budget.budgetId}`}
        dialog={dialog}
        submitLabel="Save"
        pending={update.isPending}
        error={update.error}
        onSubmit={() =>
          update.mutate({
            path: { budgetId: budget.budgetId },
            // The generated type reads the nullable date as an object; the API takes an ISO string.
            body: { limitCredits: Number(limit), expiresAt: (expires ? utcInstant(expires) : null) as never },
            headers: dialog.headers,
          })
        }
      >
        <NumberInput
          label="Limit (credits)"
          value={limit}
          onChange={setLimit}
          min={1}
          allowDecimal={false}
          allowNegative={false}
          required
          data-autofocus
        />
        <TextInput
          type="datetime-local"
          label="Expires (UTC; empty: never)"
          value={expires}
          onChange={(e) => setExpires(e.currentTarget.value)}
        />
      </ActionDialog>
    </>
  );
}

import { Button, Group, NumberInput, Select, Text } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { type ApiKeyResponseDto } from '../api/generated';
import {
  listApiKeysOptions,
  revokeApiKeyMutation,
  updateApiKeyMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { ActionDialog } from '../components/action-dialog';
import { DataTable } from '../components/data-table';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

export function UserApiKeys({ userId }: { userId: string }) {
  const invalidate = useInvalidate();
  const keys = useQuery(listApiKeysOptions({ query: { userId } }));
  const [limit, setLimit] = useState<string | number>('');
  const [period, setPeriod] = useState<LimitPeriod>('total');
  const update = useMutation({
    ...updateApiKeyMutation(),
    onSuccess: () => {
      budgeting.close();
      void invalidate(affected.apiKeys(userId));
    },
  });
  const revoke = useMutation({
    ...revokeApiKeyMutation(),
    onSuccess: () => {
      revoking.close();
      void invalidate(affected.apiKeys(userId));
    },
  });
  // Each opening starts from the key's budget now in force.
  const budgeting = useCommandDialog<ApiKeyResponseDto>((key) => {
    update.reset();
    setLimit(key.creditLimit ?? '');
    setPeriod(key.limitPeriod ?? 'total');
  });
  const revoking = useCommandDialog<ApiKeyResponseDto>(() => revoke.reset());
  const budgetKey = budgeting.subject;
  const revokeKey = revoking.subject;
  return (
    <>
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
            render: (row) =>
              row.creditLimit == null
                ? 'none'
                : `${credits(row.spentInPeriod)} of ${credits(row.creditLimit)} / ${row.limitPeriod}`,
          },
          { label: 'Last used (UTC)', render: (row) => utc(row.lastUsed) },
          { label: 'State', render: (row) => (row.isActive ? 'active' : 'revoked') },
          {
            label: 'Actions',
            render: (row) =>
              row.isActive && (
                <Group gap={4}>
                  <Button size="xs" variant="light" onClick={() => budgeting.open(row)}>
                    Budget
                  </Button>
                  <Button size="xs" color="red" variant="light" onClick={() => revoking.open(row)}>
                    Revoke
                  </Button>
                </Group>
              ),
          },
        ]}
      />
      <ActionDialog
        title={`Budget of the key ${budgetKey?.name ?? ''}`}
        dialog={budgeting}
        submitLabel="Save budget"
        pending={update.isPending}
        error={update.error}
        onSubmit={() =>
          budgetKey &&
          update.mutate({
            path: { id: budgetKey.id },
            body: limit === '' ? { creditLimit: null } : { creditLimit: Number(limit), limitPeriod: period },
            headers: budgeting.headers,
          })
        }
      >
        <NumberInput
          label="Credit limit (empty: none)"
          value={limit}
          onChange={setLimit}
          min={1}
          allowDecimal={false}
        />
        <Select
          label="Period (UTC)"
          data={['day', 'week', 'month', 'total']}
          value={period}
          onChange={(value) => setPeriod((value as LimitPeriod | null) ?? 'total')}
          allowDeselect={false}
        />
      </ActionDialog>
      {/* Revoking cannot be undone: the key's next request is refused. */}
      <ActionDialog
        title={`Revoke the key ${revokeKey?.name ?? ''}`}
        dialog={revoking}
        submitLabel="Revoke key"
        color="red"
        pending={revoke.isPending}
        error={revoke.error}
        onSubmit={() => revokeKey && revoke.mutate({ path: { id: revokeKey.id }, headers: revoking.headers })}
      >
        <Text>
          Every request with the key {revokeKey?.prefix}… is refused from now on. This cannot be undone: its owner makes
          a new key.
        </Text>
      </ActionDialog>
    </>
  );
}

type LimitPeriod = NonNullable<ApiKeyResponseDto['limitPeriod']>;

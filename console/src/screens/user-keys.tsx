import { Button, Group, NumberInput, Select } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
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

export function UserApiKeys({ userId }: { userId: string }) {
  const queryClient = useQueryClient();
  const keys = useQuery(listApiKeysOptions({ query: { userId } }));
  const revoke = useMutation({ ...revokeApiKeyMutation(), onSuccess: () => void queryClient.invalidateQueries() });
  const [budgeting, setBudgeting] = useState<ApiKeyResponseDto | null>(null);
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
                  <Button size="xs" variant="light" onClick={() => setBudgeting(row)}>
                    Budget
                  </Button>
                  <Button size="xs" color="red" variant="light" onClick={() => revoke.mutate({ path: { id: row.id } })}>
                    Revoke
                  </Button>
                </Group>
              ),
          },
        ]}
      />
      {budgeting && <KeyBudgetDialog apiKey={budgeting} onClose={() => setBudgeting(null)} />}
    </>
  );
}

type LimitPeriod = NonNullable<ApiKeyResponseDto['limitPeriod']>;

function KeyBudgetDialog({ apiKey, onClose }: { apiKey: ApiKeyResponseDto; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [limit, setLimit] = useState<string | number>(apiKey.creditLimit ?? '');
  const [period, setPeriod] = useState<LimitPeriod>(apiKey.limitPeriod ?? 'total');
  const update = useMutation({
    ...updateApiKeyMutation(),
    onSuccess: () => {
      onClose();
      void queryClient.invalidateQueries();
    },
  });
  return (
    <ActionDialog
      title={`Budget of the key ${apiKey.name}`}
      opened
      onClose={onClose}
      submitLabel="Save budget"
      pending={update.isPending}
      error={update.error}
      onSubmit={() =>
        update.mutate({
          path: { id: apiKey.id },
          body: limit === '' ? { creditLimit: null } : { creditLimit: Number(limit), limitPeriod: period },
        })
      }
    >
      <NumberInput label="Credit limit (empty: none)" value={limit} onChange={setLimit} min={1} allowDecimal={false} />
      <Select
        label="Period (UTC)"
        data={['day', 'week', 'month', 'total']}
        value={period}
        onChange={(value) => setPeriod((value as LimitPeriod | null) ?? 'total')}
        allowDeselect={false}
      />
    </ActionDialog>
  );
}

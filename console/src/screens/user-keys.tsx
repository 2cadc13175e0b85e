import { Button, Group, NumberInput, Select, Text } from '@mantine/core';
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
  const [budgeting, setBudgeting] = useState<ApiKeyResponseDto | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyResponseDto | null>(null);
  const revoke = useMutation({
    ...revokeApiKeyMutation(),
    onSuccess: () => (setRevoking(null), void queryClient.invalidateQueries()),
  });
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
                  <Button size="xs" color="red" variant="light" onClick={() => (revoke.reset(), setRevoking(row))}>
                    Revoke
                  </Button>
                </Group>
              ),
          },
        ]}
      />
      {budgeting && <KeyBudgetDialog apiKey={budgeting} onClose={() => setBudgeting(null)} />}
      {/* Revoking cannot be undone: the key's next request is refused. */}
      <ActionDialog
        title={`Revoke the key ${revoking?.name ?? ''}`}
        opened={revoking !== null}
        onClose={() => setRevoking(null)}
        submitLabel="Revoke key"
        color="red"
        pending={revoke.isPending}
        error={revoke.error}
        onSubmit={() => revoking && revoke.mutate({ path: { id: revoking.id } })}
      >
        <Text>
          Every request with the key {revoking?.prefix}… is refused from now on. This cannot be undone: its owner makes
          a new key.
        </Text>
      </ActionDialog>
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

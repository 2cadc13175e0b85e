import { Alert, Badge, Button, Group, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';

import type { EntitlementResponseDto } from '../api/generated';
import { listEntitlementsOptions } from '../api/generated/@tanstack/react-query.gen';
import { DataTable } from '../components/data-table';
import { type Account, accountRef } from '../lib/account';
import { credits, errorMessage, utc } from '../lib/format';
import { grantText } from '../lib/grants';
import { OverrideDialog, useOverrideDialog } from './feature-grants';

type Entitlement = EntitlementResponseDto;

/**
 * An account's features (`GET /api/entitlements`): each feature's grant in force and where it comes
 * from (its plan, or the account's override), and for metered ones the use this period and when it
 * resets (UTC). Supervisors set and remove overrides here.
 */
export function AccountFeatures({ account }: { account: Account }) {
  const entitlements = useQuery(listEntitlementsOptions({ query: accountRef(account) }));
  const override = useOverrideDialog(account);
  const items = entitlements.data?.items ?? [];
  const open = (row: Entitlement) =>
    override.dialog.open({
      featureKey: row.featureKey,
      name: row.name,
      type: row.type,
      override: row.source === 'override' ? row.grant : undefined,
    });
  return (
    <Stack>
      {entitlements.isError && (
        <Alert color="red" role="alert">
          {errorMessage(entitlements.error)}
        </Alert>
      )}
      <DataTable
        label="Features"
        rows={items}
        rowKey={(row) => row.featureKey}
        columns={[
          {
            label: 'Feature',
            render: (row) => (
              <>
                {row.name}{' '}
                <Text span size="xs" c="dimmed">
                  {row.featureKey}
                </Text>
              </>
            ),
          },
          { label: 'Type', render: (row) => row.type },
          { label: 'Grant', render: (row) => grantText(row.grant) },
          {
            label: 'Source',
            render: (row) =>
              row.source ? (
                <Badge variant="light" color={row.source === 'override' ? 'grape' : 'blue'}>
                  {row.source}
                </Badge>
              ) : (
                '—'
              ),
          },
          { label: 'Used', render: (row) => (row.type === 'metered' ? credits(row.used) : ''), numeric: true },
          {
            label: 'Remaining',
            render: (row) => (row.type === 'metered' ? credits(row.remaining) : ''),
            numeric: true,
          },
          {
            label: 'Resets (UTC)',
            render: (row) => (row.type !== 'metered' ? '' : row.resetsAt ? utc(row.resetsAt) : 'never'),
          },
          {
            label: 'Actions',
            render: (row) => (
              <Group gap="xs" wrap="nowrap">
                <Button
                  size="xs"
                  variant="light"
                  aria-label={`${row.source === 'override' ? 'Change' : 'Set'} the override of ${row.featureKey}`}
                  onClick={() => open(row)}
                >
                  {row.source === 'override' ? 'Change override' : 'Set override'}
                </Button>
              </Group>
            ),
          },
        ]}
      />
      {entitlements.isSuccess && items.length === 0 && (
        <Text c="dimmed" ta="center" py="md">
          No features yet (create them on the Features screen).
        </Text>
      )}
      <OverrideDialog state={override} />
    </Stack>
  );
}

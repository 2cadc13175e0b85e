import { Alert, Stack, Text } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';

import type { LedgerEntryDto } from '../api/generated';
import { getOrgLimitsOptions, listOrgLedgerInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { credits, errorMessage, utc } from '../lib/format';

/** An org's ledger (GET /api/orgs/:orgId/ledger), newest first, by cursor. */
export function OrgLedger({ orgId }: { orgId: string }) {
  const ledger = useInfiniteQuery({ ...listOrgLedgerInfiniteOptions({ path: { orgId } }), ...cursorPaging });
  const rows = pagesOf(ledger.data);
  if (ledger.isError) return <Failed error={ledger.error} />;
  return (
    <Stack>
      <DataTable<LedgerEntryDto>
        label="Ledger"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.createdAt) },
          { label: 'Kind', render: (row) => row.kind },
          { label: 'Amount', render: (row) => credits(row.amount), numeric: true },
          { label: 'Balance after', render: (row) => credits(row.balanceAfter), numeric: true },
          { label: 'Member', render: (row) => row.userId ?? '—' },
          { label: 'Allocation', render: (row) => row.allocationId ?? '—' },
          { label: 'By', render: (row) => row.createdBy },
        ]}
      />
      <LoadMore {...ledger} empty={ledger.isSuccess && rows.length === 0} />
    </Stack>
  );
}

/** The org account's overdraft, hourly limit and debt (GET /api/orgs/:orgId/limits). */
export function OrgLimits({ orgId }: { orgId: string }) {
  const limits = useQuery(getOrgLimitsOptions({ path: { orgId } }));
  if (limits.isError) return <Failed error={limits.error} />;
  const data = limits.data;
  return (
    <Stack gap="xs">
      <Text>Overdraft limit: {credits(data?.overdraftLimit)}</Text>
      <Text>
        Max credits per hour:{' '}
        {data?.maxCreditsPerHour == null ? 'the service default' : credits(data.maxCreditsPerHour)} (in force:{' '}
        {data?.effectiveMaxCreditsPerHour == null ? 'none' : credits(data.effectiveMaxCreditsPerHour)})
      </Text>
      <Text>Debt: {credits(data?.debt)}</Text>
    </Stack>
  );
}

function Failed({ error }: { error: unknown }) {
  return (
    <Alert color="red" role="alert">
      {errorMessage(error)}
    </Alert>
  );
}

import { Alert, Badge, Button, Group, Stack, Text } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';

import type { ExportRunResponseDto } from '../api/generated';
import {
  listExportRunsInfiniteOptions,
  listExportRunsInfiniteQueryKey,
  runExportMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';

const STATUS_COLOR = { running: 'blue', completed: 'green', failed: 'red' } as const;

/** The Parquet export runs (GET /api/exports), newest first; admins can start one. */
export function ExportsScreen() {
  const operator = useOperator();
  const queryClient = useQueryClient();
  const runs = useInfiniteQuery({
    ...listExportRunsInfiniteOptions({ query: {} }),
    ...cursorPaging,
    // A run under way finishes on its own: look again until none is.
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some((r) => r.status === 'running')) ? 1000 : false,
  });
  const run = useMutation({
    ...runExportMutation(),
    onSuccess: () => {
      starting.close();
      void queryClient.invalidateQueries({ queryKey: listExportRunsInfiniteQueryKey({ query: {} }) });
    },
  });
  const starting = useCommandDialog(() => run.reset());
  const rows = pagesOf(runs.data);
  return (
    <Stack>
      <Group justify="space-between">
        <ScreenTitle>Exports</ScreenTitle>
        {operator.isAdmin && <Button onClick={() => starting.open(true)}>Run export now</Button>}
      </Group>
      <Text c="dimmed" size="sm">
        Parquet files of usage records, ledger entries, allocations, purchases and corrections under the service’s
        EXPORT_DIR, each row in exactly one file. Times in UTC.
      </Text>
      <DataTable<ExportRunResponseDto>
        label="Export runs"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'Started (UTC)', render: (row) => utc(row.startedAt) },
          {
            label: 'Status',
            render: (row) => (
              <Badge color={STATUS_COLOR[row.status as keyof typeof STATUS_COLOR] ?? 'gray'} variant="light">
                {row.status}
              </Badge>
            ),
          },
          { label: 'Trigger', render: (row) => `${row.trigger}${row.createdBy ? ` by ${row.createdBy}` : ''}` },
          {
            label: 'Rows',
            render: (row) =>
              row.datasets.length === 0
                ? 'nothing new'
                : row.datasets.map((d) => `${d.dataset} ${credits(d.rows)}`).join(' · '),
          },
          { label: 'Files', render: (row) => credits(row.datasets.reduce((n, d) => n + d.files, 0)), numeric: true },
          { label: 'Finished (UTC)', render: (row) => (row.finishedAt ? utc(row.finishedAt) : '—') },
          { label: 'Error', render: (row) => row.lastError ?? '' },
        ]}
      />
      <LoadMore {...runs} empty={runs.isSuccess && rows.length === 0} />
      <ActionDialog
        title="Run the Parquet export now"
        dialog={starting}
        submitLabel="Run export"
        pending={run.isPending}
        error={run.error}
        onSubmit={() => run.mutate({ headers: starting.headers })}
      >
        <Alert color="blue">Writes every dataset’s rows added since the last run. One run at a time.</Alert>
      </ActionDialog>
    </Stack>
  );
}

import { Button, Group, SegmentedControl, Stack, Textarea } from '@mantine/core';
import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import type { ReviewItemDto } from '../api/generated';
import {
  listReviewQueueInfiniteOptions,
  listReviewQueueQueryKey,
  resolveUsageRecordMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

export function ReviewScreen() {
  const operator = useOperator();
  const [status, setStatus] = useState<'open' | 'resolved'>('open');
  const queue = useInfiniteQuery({
    ...listReviewQueueInfiniteOptions({ query: { status } }),
    ...cursorPaging,
    enabled: operator.isAdmin,
  });
  const invalidate = useInvalidate();
  const [action, setAction] = useState<'write_off' | 'collect'>('write_off');
  const [note, setNote] = useState('');
  const resolve = useMutation({
    ...resolveUsageRecordMutation(),
    onSuccess: () => {
      resolving.close();
      const userId = resolving.subject?.userId;
      void invalidate(userId ? affected.review(userId) : [listReviewQueueQueryKey()]);
    },
  });
  const resolving = useCommandDialog<ReviewItemDto>(() => {
    resolve.reset();
    setAction('write_off');
    setNote('');
  });
  const item = resolving.subject;
  const rows = pagesOf(queue.data);
  const debts = queue.data?.pages[0]?.debts ?? [];
  if (!operator.isAdmin) return <ScreenTitle>Review queue (admins only)</ScreenTitle>;
  return (
    <Stack>
      <ScreenTitle>Review queue</ScreenTitle>
      <SegmentedControl
        data={['open', 'resolved']}
        value={status}
        onChange={(v) => setStatus(v as 'open' | 'resolved')}
        w={220}
      />
      <DataTable<ReviewItemDto>
        label="Usage records to review"
        rows={rows}
        rowKey={(row) => row.usageRecordId}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.timestamp) },
          { label: 'User', render: (row) => row.userId },
          { label: 'Service', render: (row) => `${row.service} · ${row.operation}` },
          { label: 'Credits', render: (row) => credits(row.credits), numeric: true },
          { label: 'Shortfall', render: (row) => credits(row.shortfall), numeric: true },
          {
            label: 'Resolution',
            render: (row) =>
              row.reviewStatus === 'open' ? (
                <Button size="xs" variant="light" onClick={() => resolving.open(row)}>
                  Resolve
                </Button>
              ) : (
                `${row.resolution} by ${row.resolvedBy} ${utc(row.resolvedAt)}${row.note ? `: ${row.note}` : ''}`
              ),
          },
        ]}
      />
      <LoadMore {...queue} empty={queue.isSuccess && rows.length === 0} />
      {debts.length > 0 && (
        <DataTable
          label="Accounts with debt"
          rows={debts}
          rowKey={(row) => (row.orgId ? `org:${row.orgId}` : `user:${row.userId}`)}
          columns={[
            { label: 'Account with debt', render: (row) => (row.orgId ? `Organisation ${row.orgId}` : row.userId) },
            { label: 'Debt', render: (row) => credits(row.debt), numeric: true },
          ]}
        />
      )}
      <ActionDialog
        title={`Resolve a shortfall of ${credits(item?.shortfall)} credits (${item?.userId ?? ''})`}
        dialog={resolving}
        submitLabel="Resolve"
        pending={resolve.isPending}
        error={resolve.error}
        onSubmit={() =>
          item &&
          resolve.mutate({
            path: { id: item.usageRecordId },
            body: { action, ...(note ? { note } : {}) },
            headers: resolving.headers,
          })
        }
      >
        <Group>
          <SegmentedControl
            aria-label="Action"
            data={[
              { value: 'write_off', label: 'Write off' },
              { value: 'collect', label: 'Collect' },
            ]}
            value={action}
            onChange={(v) => setAction(v as 'write_off' | 'collect')}
          />
        </Group>
        <Textarea label="Note" value={note} onChange={(e) => setNote(e.currentTarget.value)} maxLength={500} />
      </ActionDialog>
    </Stack>
  );
}

import { Badge, Button, FileInput, Stack, Table, Text, Title } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import type { ReconciliationResponseDto } from '../api/generated';
import {
  createReconciliationMutation,
  listReconciliationsInfiniteOptions,
  listReconciliationsQueryKey,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';

/** How many items of a list need a look: red when any. */
function Count({ n, label }: { n: number; label: string }) {
  return (
    <Badge color={n === 0 ? 'green' : 'red'} variant="light" aria-label={`${n} ${label}`}>
      {n}
    </Badge>
  );
}

/**
 * The reconciliations of Stripe's payout reports, newest first, each with what did not match; admins
 * upload a report here (docs/reconciliation.md).
 */
export function Reconciliations() {
  const operator = useOperator();
  const [open, setOpen] = useState<string | null>(null);
  const list = useInfiniteQuery({ ...listReconciliationsInfiniteOptions({ query: {} }), ...cursorPaging });
  const rows = pagesOf(list.data);
  return (
    <Stack gap="sm">
      <Title order={2} size="h3">
        Stripe payout reconciliations
      </Title>
      {operator.isAdmin && <UploadReport onDone={setOpen} />}
      <DataTable<ReconciliationResponseDto>
        label="Reconciliations"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'Uploaded (UTC)', render: (row) => utc(row.createdAt) },
          { label: 'Payouts', render: (row) => row.payouts.join(', ') || '—' },
          { label: 'Rows', render: (row) => row.rows, numeric: true },
          { label: 'Matched', render: (row) => row.matched, numeric: true },
          { label: 'Mismatched', render: (row) => <Count n={row.mismatched.length} label="mismatched" /> },
          { label: 'Unknown', render: (row) => <Count n={row.unknown.length} label="unknown" /> },
          { label: 'Missing', render: (row) => <Count n={row.missing.length} label="missing" /> },
          {
            label: 'Items',
            render: (row) => (
              <Button
                size="xs"
                variant="subtle"
                aria-expanded={open === row.id}
                aria-label={`${open === row.id ? 'Hide' : 'Show'} unmatched items of ${utc(row.createdAt)}`}
                onClick={() => setOpen(open === row.id ? null : row.id)}
              >
                {open === row.id ? 'Hide' : 'Show'}
              </Button>
            ),
          },
        ]}
        detail={(row) => open === row.id && <Unmatched reconciliation={row} />}
      />
      <LoadMore {...list} empty={list.isSuccess && rows.length === 0} />
    </Stack>
  );
}

/** What finance must look at: rows that disagree, rows of no purchase, purchases no row settled. */
function Unmatched({ reconciliation: r }: { reconciliation: ReconciliationResponseDto }) {
  const items = [
    ...r.mismatched.map((m) => ({
      key: `m-${m.balanceTransactionId}`,
      what: 'mismatched',
      transaction: m.balanceTransactionId,
      category: m.category,
      purchase: m.purchaseId,
      detail: `expected ${m.expected}, got ${m.got}`,
    })),
    ...r.unknown.map((u) => ({
      key: `u-${u.balanceTransactionId}`,
      what: 'unknown',
      transaction: u.balanceTransactionId,
      category: u.category,
      purchase: '—',
      detail: `gross ${u.gross}, payment intent ${u.paymentIntentId ?? '—'}`,
    })),
    ...r.missing.map((m) => ({
      key: `p-${m.purchaseId}`,
      what: 'missing',
      transaction: '—',
      category: '—',
      purchase: m.purchaseId,
      detail: `${m.amount} paid ${utc(m.paidAt)}`,
    })),
  ];
  if (items.length === 0) return <Text c="dimmed">Every row matched, and no purchase is missing.</Text>;
  return (
    <Table.ScrollContainer minWidth={0} type="native">
      <Table aria-label={`Unmatched items of ${utc(r.createdAt)}`} withTableBorder>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Item</Table.Th>
            <Table.Th>Balance transaction</Table.Th>
            <Table.Th>Category</Table.Th>
            <Table.Th>Purchase</Table.Th>
            <Table.Th>Detail</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((i) => (
            <Table.Tr key={i.key}>
              <Table.Td>{i.what}</Table.Td>
              <Table.Td>{i.transaction}</Table.Td>
              <Table.Td>{i.category}</Table.Td>
              <Table.Td>{i.purchase}</Table.Td>
              <Table.Td>{i.detail}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** Uploads an itemized payout reconciliation report (CSV) as it came from Stripe. */
function UploadReport({ onDone }: { onDone: (id: string) => void }) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const upload = useMutation({
    ...createReconciliationMutation(),
    onSuccess: (r) => {
      dialog.close();
      onDone(r.id);
      void queryClient.invalidateQueries({ queryKey: listReconciliationsQueryKey() });
    },
  });
  const dialog = useCommandDialog(() => {
    setFile(null);
    upload.reset();
  });
  return (
    <div>
      <Button onClick={() => dialog.open(true)}>Upload a payout report</Button>
      <ActionDialog
        title="Reconcile a Stripe payout report"
        dialog={dialog}
        submitLabel="Reconcile"
        pending={upload.isPending}
        error={upload.error}
        onSubmit={() => {
          if (file) void file.text().then((body) => upload.mutate({ body, headers: dialog.headers }));
        }}
      >
        <FileInput
          label="Itemized payout reconciliation report"
          description="The CSV Stripe exports (payout_reconciliation.itemized), at most 20 MB"
          accept=".csv,text/csv"
          value={file}
          onChange={setFile}
          required
        />
      </ActionDialog>
    </div>
  );
}

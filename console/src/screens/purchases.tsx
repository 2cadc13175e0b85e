import { Badge, Button, NumberInput, Table, Text, Textarea } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import type { PurchaseResponseDto } from '../api/generated';
import {
  getPurchaseRefundableOptions,
  listPurchasesInfiniteOptions,
  refundPurchaseMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { cursorPaging, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import type { Account } from '../lib/account';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

/** The statuses in which a purchase has an allocation that may still hold refundable credits. */
const REFUNDABLE_STATUSES = new Set(['paid', 'partially_refunded', 'disputed']);

const STATUS_COLOR: Record<string, string> = {
  pending_payment: 'gray',
  paid: 'green',
  failed: 'red',
  expired: 'gray',
  partially_refunded: 'yellow',
  refunded: 'yellow',
  disputed: 'orange',
  charged_back: 'red',
};

/**
 * An account's purchases (a user's page; an org's page mounts it with `{orgId}`): status, what was
 * taken back, disputed credits and debt made, what is refundable now, and for admins a **Refund**
 * action (POST /api/purchases/:id/refunds: the credits leave the purchase's allocation and
 * purchase.refunded tells the platform to pay the amount back).
 */
export function Purchases({ account }: { account: Account }) {
  const operator = useOperator();
  const purchases = useInfiniteQuery({ ...listPurchasesInfiniteOptions({ query: { ...account } }), ...cursorPaging });
  const invalidate = useInvalidate();
  const [amount, setAmount] = useState<string | number>('');
  const [reason, setReason] = useState('');
  const refund = useMutation({
    ...refundPurchaseMutation(),
    onSuccess: () => {
      refunding.close();
      void invalidate(affected.purchases(account));
    },
  });
  const refunding = useCommandDialog<PurchaseResponseDto>(() => {
    refund.reset();
    setAmount('');
    setReason('');
  });
  const target = refunding.subject;
  const items = pagesOf(purchases.data);
  if (purchases.isSuccess && items.length === 0) return <Text c="dimmed">No purchases.</Text>;
  return (
    <>
      <Table.ScrollContainer minWidth={0} type="native">
        <Table striped aria-label="Purchases">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Created (UTC)</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th ta="right">Credits</Table.Th>
              <Table.Th ta="right">Amount</Table.Th>
              <Table.Th>Provider</Table.Th>
              <Table.Th ta="right">Taken back</Table.Th>
              <Table.Th ta="right">Disputed</Table.Th>
              <Table.Th ta="right">Debt made</Table.Th>
              <Table.Th ta="right">Refundable</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((purchase) => (
              <Table.Tr key={purchase.id}>
                <Table.Td>{utc(purchase.createdAt)}</Table.Td>
                <Table.Td>
                  <Badge color={STATUS_COLOR[purchase.status] ?? 'gray'} variant="light">
                    {purchase.status.replace('_', ' ')}
                  </Badge>
                </Table.Td>
                <Table.Td ta="right">{credits(purchase.credits)}</Table.Td>
                <Table.Td ta="right">
                  {purchase.amount} {purchase.currency.toUpperCase()}
                </Table.Td>
                <Table.Td>
                  {purchase.provider}
                  {purchase.providerPaymentId ? (
                    <Text span ff="monospace" fz="xs" c="dimmed">
                      {' '}
                      {purchase.providerPaymentId}
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td ta="right">
                  {credits(purchase.refundedCredits)} ({purchase.refundedAmount})
                </Table.Td>
                <Table.Td ta="right">{credits(purchase.disputedCredits)}</Table.Td>
                <Table.Td ta="right">{credits(purchase.debtCreated)}</Table.Td>
                <Table.Td ta="right">
                  {REFUNDABLE_STATUSES.has(purchase.status) ? <Refundable purchaseId={purchase.id} /> : '—'}
                </Table.Td>
                <Table.Td>
                  {operator.isAdmin && REFUNDABLE_STATUSES.has(purchase.status) && purchase.status !== 'disputed' && (
                    <Button size="xs" color="red" variant="light" onClick={() => refunding.open(purchase)}>
                      Refund
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <LoadMore {...purchases} />
      <ActionDialog
        title={`Refund credits of the purchase of ${credits(target?.credits)} credits`}
        dialog={refunding}
        submitLabel="Refund"
        color="red"
        pending={refund.isPending}
        error={refund.error}
        onSubmit={() =>
          target &&
          refund.mutate({
            path: { id: target.id },
            body: { ...(amount === '' ? {} : { credits: Number(amount) }), ...(reason ? { reason } : {}) },
            headers: refunding.headers,
          })
        }
      >
        <Text size="sm" c="dimmed">
          The credits leave this purchase’s allocation; the platform is told to pay their share of the amount back.
        </Text>
        <NumberInput
          label="Credits (empty: all refundable)"
          value={amount}
          onChange={setAmount}
          min={1}
          allowDecimal={false}
          allowNegative={false}
          data-autofocus
        />
        <Textarea label="Reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} maxLength={500} />
      </ActionDialog>
    </>
  );
}

function Refundable({ purchaseId }: { purchaseId: string }) {
  const quote = useQuery(getPurchaseRefundableOptions({ path: { id: purchaseId } }));
  if (!quote.data) return <>…</>;
  return (
    <>
      {credits(quote.data.credits)} ({quote.data.amount})
    </>
  );
}

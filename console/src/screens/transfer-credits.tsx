import { Button, Group, Input, NumberInput, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import type { TransferResponseDto } from '../api/generated';
import { listTransfersInfiniteOptions, transferCreditsMutation } from '../api/generated/@tanstack/react-query.gen';
import { ActionDialog } from '../components/action-dialog';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { type Account, accountName, accountRef } from '../lib/account';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

type Direction = 'out' | 'in';
type Kind = 'user' | 'org';

/**
 * The Transfer credits button and its dialog (POST /api/credits/transfers): credits leave one account,
 * soonest-expiring first, and arrive in the other with the same expiry dates. The account of the page is
 * one side; the operator names the other (a user or an org) and the direction.
 */
export function TransferCredits({ account }: { account: Account }) {
  const invalidate = useInvalidate();
  const [direction, setDirection] = useState<Direction>('out');
  const [kind, setKind] = useState<Kind>(account.orgId !== undefined ? 'user' : 'org');
  const [other, setOther] = useState('');
  const [amount, setAmount] = useState<string | number>('');
  const [reason, setReason] = useState('');
  const otherAccount: Account = kind === 'org' ? { orgId: other.trim() } : { userId: other.trim() };
  const [from, to] = direction === 'out' ? [account, otherAccount] : [otherAccount, account];
  const transfer = useMutation({
    ...transferCreditsMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate(affected.transfer(from, to));
    },
  });
  const dialog = useCommandDialog(() => {
    transfer.reset();
    setDirection('out');
    setOther('');
    setAmount('');
    setReason('');
  });
  const here = account.orgId ?? account.userId;
  return (
    <>
      <Button variant="light" onClick={() => dialog.open(true)}>
        Transfer credits
      </Button>
      <ActionDialog
        title={`Transfer credits ${direction === 'out' ? 'from' : 'to'} ${here}`}
        dialog={dialog}
        submitLabel="Transfer"
        size="lg"
        pending={transfer.isPending}
        error={transfer.error}
        onSubmit={() =>
          transfer.mutate({
            body: {
              from: accountRef(from),
              to: accountRef(to),
              credits: Number(amount),
              ...(reason ? { reason } : {}),
            },
            headers: dialog.headers,
          })
        }
      >
        <Stack gap={4}>
          <Input.Label id="transfer-direction">Direction</Input.Label>
          <SegmentedControl
            aria-labelledby="transfer-direction"
            value={direction}
            onChange={(value) => setDirection(value as Direction)}
            data={[
              { value: 'out', label: `Out of ${here}` },
              { value: 'in', label: `Into ${here}` },
            ]}
          />
        </Stack>
        <Group align="end" wrap="nowrap">
          <Stack gap={4}>
            <Input.Label id="transfer-kind">{direction === 'out' ? 'To' : 'From'}</Input.Label>
            <SegmentedControl
              aria-labelledby="transfer-kind"
              value={kind}
              onChange={(value) => setKind(value as Kind)}
              data={[
                { value: 'user', label: 'User' },
                { value: 'org', label: 'Organisation' },
              ]}
            />
          </Stack>
          <TextInput
            label={kind === 'org' ? 'Organisation id' : 'User id'}
            value={other}
            onChange={(e) => setOther(e.currentTarget.value)}
            maxLength={50}
            required
            style={{ flex: 1 }}
            data-autofocus
          />
        </Group>
        <NumberInput
          label="Credits"
          value={amount}
          onChange={setAmount}
          min={1}
          allowDecimal={false}
          allowNegative={false}
          required
        />
        <TextInput label="Reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} maxLength={500} />
        <Text size="xs" c="dimmed">
          The soonest-expiring credits move first and keep their expiry dates; held credits and overdraft never move.
        </Text>
      </ActionDialog>
    </>
  );
}

/** Transfers in and out of an account, newest first. */
export function Transfers({ query }: { query: { orgId: string } | { userId: string } }) {
  const transfers = useInfiniteQuery({ ...listTransfersInfiniteOptions({ query }), ...cursorPaging });
  const rows = pagesOf(transfers.data);
  return (
    <>
      <DataTable<TransferResponseDto>
        label="Transfers"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.createdAt) },
          { label: 'From', render: (row) => accountName(row.from) },
          { label: 'To', render: (row) => accountName(row.to) },
          { label: 'Credits', render: (row) => credits(row.credits), numeric: true },
          { label: 'Reason', render: (row) => row.reason ?? '' },
          { label: 'By', render: (row) => row.createdBy },
        ]}
      />
      <LoadMore {...transfers} empty={transfers.isSuccess && rows.length === 0} />
    </>
  );
}

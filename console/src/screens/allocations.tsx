import { Button, NumberInput, Table, Text, Textarea, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import type { AllocationResponseDto } from '../api/generated';
import { allocateCreditsMutation, voidAllocationMutation } from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { type Account, accountRef } from '../lib/account';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

/** Allocation views carry the void details. */
export type Allocation = AllocationResponseDto & {
  voidedAt?: string | null;
  voidedBy?: string | null;
  voidReason?: string | null;
};

/** The Grant credits button and its dialog, for a user's or an org's account (POST /api/credits/allocate). */
export function GrantCredits({ account }: { account: Account }) {
  const invalidate = useInvalidate();
  const [amount, setAmount] = useState<string | number>('');
  const [days, setDays] = useState<string | number>(30);
  const [notes, setNotes] = useState('');
  const grant = useMutation({
    ...allocateCreditsMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate(affected.accountCredits(account));
    },
  });
  const dialog = useCommandDialog(() => {
    grant.reset();
    setAmount('');
    setDays(30);
    setNotes('');
  });
  return (
    <>
      <Button onClick={() => dialog.open(true)}>Grant credits</Button>
      <ActionDialog
        title={`Grant credits to ${account.orgId ?? account.userId}`}
        dialog={dialog}
        submitLabel="Grant"
        pending={grant.isPending}
        error={grant.error}
        onSubmit={() =>
          grant.mutate({
            body: {
              ...accountRef(account),
              credits: Number(amount),
              expiryDays: Number(days),
              ...(notes ? { notes } : {}),
            },
            headers: dialog.headers,
          })
        }
      >
        <NumberInput
          label="Credits"
          value={amount}
          onChange={setAmount}
          min={1}
          allowDecimal={false}
          allowNegative={false}
          required
          data-autofocus
        />
        <NumberInput
          label="Expires in days"
          value={days}
          onChange={setDays}
          min={1}
          max={3650}
          allowDecimal={false}
          allowNegative={false}
          required
        />
        <TextInput label="Notes" value={notes} onChange={(e) => setNotes(e.currentTarget.value)} maxLength={500} />
      </ActionDialog>
    </>
  );
}

/** A UTC instant on one line, whatever the voided note beside it takes. */
const NO_WRAP = { whiteSpace: 'nowrap' } as const;

/** An account's allocations, each with its Void action (admins) and dialog. */
export function AllocationTable({ account, items }: { account: Account; items: Allocation[] }) {
  const operator = useOperator();
  const invalidate = useInvalidate();
  const [reason, setReason] = useState('');
  const voidIt = useMutation({
    ...voidAllocationMutation(),
    onSuccess: () => {
      voiding.close();
      void invalidate(affected.accountCredits(account));
    },
  });
  const voiding = useCommandDialog<Allocation>(() => {
    voidIt.reset();
    setReason('');
  });
  const target = voiding.subject;
  return (
    <>
      <Table.ScrollContainer minWidth={0} type="native">
        <Table striped aria-label="Allocations">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Allocation</Table.Th>
              <Table.Th>Source</Table.Th>
              <Table.Th ta="right">Granted</Table.Th>
              <Table.Th ta="right">Left</Table.Th>
              <Table.Th>Allocated (UTC)</Table.Th>
              <Table.Th>Expires (UTC)</Table.Th>
              <Table.Th>Notes</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((allocation) => (
              <Table.Tr key={allocation.id}>
                <Table.Td ff="monospace" fz="xs">
                  {allocation.id}
                </Table.Td>
                <Table.Td>{allocation.source}</Table.Td>
                <Table.Td ta="right">{credits(allocation.totalCredits)}</Table.Td>
                <Table.Td ta="right">{credits(allocation.remainingCredits)}</Table.Td>
                <Table.Td style={NO_WRAP}>{utc(allocation.allocatedAt)}</Table.Td>
                <Table.Td style={NO_WRAP}>{utc(allocation.expiresAt)}</Table.Td>
                <Table.Td>{allocation.notes ?? ''}</Table.Td>
                <Table.Td>
                  {allocation.voidedAt ? (
                    <Text size="xs" c="dimmed">
                      voided {utc(allocation.voidedAt)} by {allocation.voidedBy}
                      {allocation.voidReason ? `: ${allocation.voidReason}` : ''}
                    </Text>
                  ) : (
                    operator.isAdmin &&
                    allocation.remainingCredits > 0 &&
                    Date.parse(allocation.expiresAt) > Date.now() && (
                      <Button size="xs" color="red" variant="light" onClick={() => voiding.open(allocation)}>
                        Void
                      </Button>
                    )
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <ActionDialog
        title={`Void ${credits(target?.remainingCredits)} credits left on this allocation`}
        dialog={voiding}
        submitLabel="Void allocation"
        color="red"
        pending={voidIt.isPending}
        error={voidIt.error}
        onSubmit={() =>
          target &&
          voidIt.mutate({
            path: { id: target.id },
            body: reason ? { reason } : {},
            headers: voiding.headers,
          })
        }
      >
        <Textarea
          label="Reason"
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          maxLength={500}
          required
          data-autofocus
        />
      </ActionDialog>
    </>
  );
}

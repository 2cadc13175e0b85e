import { NumberInput, Stack, Table, Text, Textarea } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import type { UsageRecordViewDto } from '../api/generated';
import { correctUsageRecordMutation } from '../api/generated/@tanstack/react-query.gen';
import { ActionDialog } from '../components/action-dialog';
import { credits, utc } from '../lib/format';
import { type CommandDialog, useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

/** A record's corrections (docs/usage.md "Corrections"), oldest first, under its row. */
export function RecordCorrections({ record }: { record: UsageRecordViewDto }) {
  return (
    <Stack gap={4}>
      <Text size="xs" c="dimmed">
        Charged {credits(record.credits)} when written; {credits(record.netCredits)} now
      </Text>
      <Table.ScrollContainer minWidth={0} type="native">
        <Table aria-label="Corrections" withTableBorder fz="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>At (UTC)</Table.Th>
              <Table.Th>Correction id</Table.Th>
              <Table.Th style={{ textAlign: 'right' }}>Delta</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {record.corrections.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>{utc(c.createdAt)}</Table.Td>
                <Table.Td>{c.correctionId}</Table.Td>
                <Table.Td style={{ textAlign: 'right' }}>
                  {c.delta > 0 ? `+${credits(c.delta)}` : credits(c.delta)}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

/**
 * The Correct dialog (admins): what the record should have cost, in credits, and why. One correction
 * id per opening (`console-<key>`), so a retry of the same opening answers the first correction.
 */
export function useCorrectDialog(userId: string) {
  const invalidate = useInvalidate();
  const [target, setTarget] = useState<string | number>('');
  const [reason, setReason] = useState('');
  const correct = useMutation({
    ...correctUsageRecordMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate(affected.correction(userId));
    },
  });
  const dialog = useCommandDialog<UsageRecordViewDto>((record) => {
    correct.reset();
    setTarget(record.netCredits);
    setReason('');
  });
  return { dialog, correct, target, setTarget, reason, setReason };
}

export function CorrectDialog(props: ReturnType<typeof useCorrectDialog>) {
  const { dialog, correct, target, setTarget, reason, setReason } = props;
  const record = dialog.subject;
  return (
    <ActionDialog
      title={`Correct a record of ${credits(record?.netCredits)} credits`}
      dialog={dialog as CommandDialog<UsageRecordViewDto>}
      submitLabel="Correct"
      pending={correct.isPending}
      error={correct.error}
      disabled={typeof target !== 'number' || reason.trim() === ''}
      onSubmit={() =>
        record &&
        typeof target === 'number' &&
        correct.mutate({
          path: { id: record.id },
          body: {
            correctionId: `console-${dialog.headers['Idempotency-Key']}`,
            reason: reason.trim(),
            credits: target,
          },
          headers: dialog.headers,
        })
      }
    >
      <Text size="sm">
        The record stays as written; the difference from its net credits goes back to the lots it was paid from, or is
        taken now.
      </Text>
      <NumberInput
        label="What it should have cost (credits)"
        value={target}
        onChange={setTarget}
        min={0}
        allowDecimal={false}
        allowNegative={false}
        required
        data-autofocus
      />
      <Textarea
        label="Reason"
        value={reason}
        onChange={(e) => setReason(e.currentTarget.value)}
        maxLength={500}
        required
      />
    </ActionDialog>
  );
}

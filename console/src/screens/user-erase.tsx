import { Button, Text, Textarea, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { eraseUserMutation } from '../api/generated/@tanstack/react-query.gen';
import { ActionDialog } from '../components/action-dialog';
import { useCommandDialog } from '../lib/idempotency';

/**
 * Erase a person (admins; docs/erasure.md): their email and username leave every table, the money
 * stays. The dialog asks why and for the user id typed again, so the wrong user is not erased by a slip.
 */
export function EraseUser({ userId, erased }: { userId: string; erased: boolean }) {
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const [typed, setTyped] = useState('');
  const erase = useMutation({
    ...eraseUserMutation(),
    onSuccess: () => {
      dialog.close();
      void queryClient.invalidateQueries();
    },
  });
  const dialog = useCommandDialog(() => {
    erase.reset();
    setReason('');
    setTyped('');
  });
  const ready = reason.trim().length > 0 && typed === userId;
  return (
    <>
      <Button color="red" variant="light" disabled={erased} onClick={() => dialog.open(true)}>
        {erased ? 'Erased' : 'Erase'}
      </Button>
      <ActionDialog
        title={`Erase ${userId}`}
        dialog={dialog}
        submitLabel={`Erase ${userId}`}
        color="red"
        disabled={!ready}
        pending={erase.isPending}
        error={erase.error}
        onSubmit={() => {
          if (ready) erase.mutate({ path: { userId }, body: { reason: reason.trim() }, headers: dialog.headers });
        }}
      >
        <Text size="sm">
          The email, username and emails of <b>{userId}</b> are removed from every table; credits, records and the
          ledger stay. Their tokens stop working and nothing more can be billed, granted or sold to them. This cannot be
          undone.
        </Text>
        <Textarea
          label="Reason"
          description="Kept in the audit log"
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          maxLength={500}
          required
        />
        <TextInput
          label={`Type ${userId} to confirm`}
          value={typed}
          onChange={(e) => setTyped(e.currentTarget.value)}
          autoComplete="off"
        />
      </ActionDialog>
    </>
  );
}

import { Alert, Button, Group, Modal, Stack } from '@mantine/core';
import { type ReactNode, useEffect, useRef } from 'react';

import { errorMessage } from '../lib/format';

/**
 * A command in a dialog, opened by `useCommandDialog` (lib/idempotency.ts): its Idempotency-Key is made
 * when the dialog opens and sent with every submit of that opening, so a double click (or a retry after
 * a lost answer) changes nothing twice.
 */
export function ActionDialog(props: {
  title: string;
  dialog: { opened: boolean; close: () => void };
  submitLabel: string;
  onSubmit: () => void;
  pending: boolean;
  error: unknown;
  color?: string;
  /** Mantine's modal size (default `md`). */
  size?: string;
  /** The submit button greyed out (what the dialog asks for is not given yet). */
  disabled?: boolean;
  children?: ReactNode;
}) {
  // A second click before the first request is even pending sends nothing (the key would make it
  // harmless anyway); after a failure the same key may be sent again.
  const inFlight = useRef(false);
  useEffect(() => {
    inFlight.current = props.pending;
  }, [props.pending, props.error]);
  return (
    <Modal opened={props.dialog.opened} onClose={props.dialog.close} title={props.title} size={props.size} centered>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (inFlight.current) return;
          inFlight.current = true;
          props.onSubmit();
        }}
      >
        <Stack>
          {props.children}
          {props.error != null && (
            <Alert color="red" role="alert">
              {errorMessage(props.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={props.dialog.close}>
              Cancel
            </Button>
            <Button type="submit" color={props.color} loading={props.pending} disabled={props.disabled}>
              {props.submitLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

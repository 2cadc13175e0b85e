import { Alert, Button, Group, Modal, Stack } from '@mantine/core';
import { type ReactNode, useEffect, useRef, useState } from 'react';

import { errorMessage } from '../lib/format';
import { newIdempotencyKey } from '../lib/idempotency';

/**
 * A command in a dialog. The Idempotency-Key is made when the dialog opens and sent with every
 * submit of that dialog, so a double click (or a retry after a lost answer) changes nothing twice.
 */
export function useDialog() {
  const [open, setOpen] = useState(false);
  const [key, setKey] = useState(newIdempotencyKey);
  return {
    opened: open,
    idempotencyKey: key,
    open: () => {
      setKey(newIdempotencyKey());
      setOpen(true);
    },
    close: () => setOpen(false),
  };
}

export function ActionDialog(props: {
  title: string;
  opened: boolean;
  onClose: () => void;
  submitLabel: string;
  onSubmit: () => void;
  pending: boolean;
  error: unknown;
  color?: string;
  children?: ReactNode;
}) {
  // A second click before the first request is even pending sends nothing (the key would make it
  // harmless anyway); after a failure the same key may be sent again.
  const inFlight = useRef(false);
  useEffect(() => {
    inFlight.current = props.pending;
  }, [props.pending, props.error]);
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={props.title} centered>
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
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" color={props.color} loading={props.pending}>
              {props.submitLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

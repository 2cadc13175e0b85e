import { Alert, Button, Code, Group, MultiSelect, Stack, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import type { CreateWebhookDto, WebhookResponseDto } from '../api/generated';
import {
  createWebhookMutation,
  listWebhookDeliveriesInfiniteOptions,
  listWebhooksOptions,
  retryWebhookDeliveryMutation,
  rotateWebhookSecretMutation,
  testWebhookMutation,
  updateWebhookMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog, useDialog } from '../components/action-dialog';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { EVENT_TYPES } from '../lib/event-types';
import { errorMessage, utc } from '../lib/format';
import { newIdempotencyKey } from '../lib/idempotency';

/** What a webhook may subscribe to: every event type, or `*`. */
const SUBSCRIBABLE: CreateWebhookDto['events'] = ['*', ...EVENT_TYPES];

export function WebhooksScreen() {
  const operator = useOperator();
  if (!operator.isAdmin) {
    return (
      <>
        <ScreenTitle>Webhooks</ScreenTitle>
        <Text c="dimmed">Webhook endpoints are managed by admins.</Text>
      </>
    );
  }
  return <AdminWebhooks />;
}

function AdminWebhooks() {
  const queryClient = useQueryClient();
  const webhooks = useQuery(listWebhooksOptions());
  const [secret, setSecret] = useState<{ label: string; secret: string } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const refresh = () => void queryClient.invalidateQueries();
  const options = { onSuccess: refresh, onError: setError };
  const test = useMutation({ ...testWebhookMutation(), ...options });
  const update = useMutation({ ...updateWebhookMutation(), ...options });
  const [rotating, setRotating] = useState<WebhookResponseDto | null>(null);
  const idempotent = { headers: { 'Idempotency-Key': newIdempotencyKey() } };

  return (
    <Stack>
      <Group justify="space-between">
        <ScreenTitle>Webhooks</ScreenTitle>
        <CreateWebhook
          onCreated={(s) => setSecret({ label: 'Signing secret (shown once: store it now)', secret: s })}
        />
      </Group>
      {secret && (
        <Alert color="green" title={secret.label} withCloseButton onClose={() => setSecret(null)}>
          <Code aria-label="Signing secret">{secret.secret}</Code>
        </Alert>
      )}
      {error != null && (
        <Alert color="red" role="alert" withCloseButton onClose={() => setError(null)}>
          {errorMessage(error)}
        </Alert>
      )}
      <DataTable<WebhookResponseDto>
        label="Webhook endpoints"
        rows={webhooks.data?.items ?? []}
        rowKey={(row) => row.id}
        columns={[
          { label: 'URL', render: (row) => row.url },
          { label: 'Events', render: (row) => row.events.join(', ') },
          {
            label: 'State',
            render: (row) =>
              row.isActive ? 'active' : `paused${row.disabledReason ? ` (${row.disabledReason})` : ''}`,
          },
          {
            label: 'Actions',
            render: (row) => (
              <Group gap={4}>
                <Button size="xs" variant="light" onClick={() => test.mutate({ path: { id: row.id }, ...idempotent })}>
                  Send test
                </Button>
                <Button
                  size="xs"
                  variant="light"
                  onClick={() => update.mutate({ path: { id: row.id }, body: { isActive: !row.isActive } })}
                >
                  {row.isActive ? 'Pause' : 'Resume'}
                </Button>
                <Button size="xs" variant="light" onClick={() => setRotating(row)}>
                  Rotate secret
                </Button>
                <Button size="xs" variant="subtle" onClick={() => setSelected(row.id)}>
                  Deliveries
                </Button>
              </Group>
            ),
          },
        ]}
      />
      {selected && <Deliveries webhookId={selected} />}
      {rotating && (
        <RotateSecret
          webhook={rotating}
          onClose={() => setRotating(null)}
          onRotated={(label, value) => setSecret({ label, secret: value })}
        />
      )}
    </Stack>
  );
}

/** Rotation is a dialog: its Idempotency-Key is made on opening, so a double click rotates once. */
function RotateSecret(props: {
  webhook: WebhookResponseDto;
  onClose: () => void;
  onRotated: (label: string, secret: string) => void;
}) {
  const dialog = useDialog();
  const rotate = useMutation({
    ...rotateWebhookSecretMutation(),
    onSuccess: (data) => {
      props.onClose();
      props.onRotated(
        `New signing secret (shown once; the previous one works until ${utc(data.previousSecretExpiresAt)})`,
        data.secret,
      );
    },
  });
  return (
    <ActionDialog
      title={`Rotate the signing secret of ${props.webhook.url}`}
      opened
      onClose={props.onClose}
      submitLabel="Rotate"
      color="orange"
      pending={rotate.isPending}
      error={rotate.error}
      onSubmit={() =>
        rotate.mutate({ path: { id: props.webhook.id }, headers: { 'Idempotency-Key': dialog.idempotencyKey } })
      }
    >
      <Text size="sm">
        A new secret signs every delivery from now on; the previous one stays valid for a while so receivers can switch.
      </Text>
    </ActionDialog>
  );
}

function CreateWebhook({ onCreated }: { onCreated: (secret: string) => void }) {
  const dialog = useDialog();
  const queryClient = useQueryClient();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['*']);
  const [description, setDescription] = useState('');
  const create = useMutation({
    ...createWebhookMutation(),
    onSuccess: (data) => {
      dialog.close();
      onCreated(data.secret);
      void queryClient.invalidateQueries();
    },
  });
  return (
    <>
      <Button onClick={() => (create.reset(), dialog.open())}>New webhook</Button>
      <ActionDialog
        title="New webhook endpoint"
        opened={dialog.opened}
        onClose={dialog.close}
        submitLabel="Create webhook"
        pending={create.isPending}
        error={create.error}
        onSubmit={() =>
          create.mutate({
            body: { url, events: events as CreateWebhookDto['events'], ...(description ? { description } : {}) },
            headers: { 'Idempotency-Key': dialog.idempotencyKey },
          })
        }
      >
        <TextInput label="URL" value={url} onChange={(e) => setUrl(e.currentTarget.value)} required />
        <MultiSelect label="Events" data={SUBSCRIBABLE} value={events} onChange={setEvents} />
        <TextInput label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
      </ActionDialog>
    </>
  );
}

function Deliveries({ webhookId }: { webhookId: string }) {
  const queryClient = useQueryClient();
  const deliveries = useInfiniteQuery({
    ...listWebhookDeliveriesInfiniteOptions({ path: { id: webhookId } }),
    ...cursorPaging,
  });
  const retry = useMutation({
    ...retryWebhookDeliveryMutation(),
    onSuccess: () => void queryClient.invalidateQueries(),
  });
  const rows = pagesOf(deliveries.data);
  return (
    <Stack gap="xs">
      <Group>
        <Title order={2} size="h4">
          Deliveries
        </Title>
        <Button size="xs" variant="subtle" onClick={() => void deliveries.refetch()}>
          Refresh
        </Button>
      </Group>
      <DataTable
        label="Deliveries"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'Created (UTC)', render: (row) => utc(row.createdAt) },
          { label: 'Event', render: (row) => `${row.type} ${row.eventId}` },
          { label: 'Status', render: (row) => row.status },
          { label: 'Attempts', render: (row) => row.attempts, numeric: true },
          { label: 'Last answer', render: (row) => row.lastStatusCode ?? row.lastError ?? '—' },
          { label: 'Delivered (UTC)', render: (row) => utc(row.deliveredAt) },
          {
            label: 'Actions',
            render: (row) => (
              <Button
                size="xs"
                variant="light"
                onClick={() =>
                  retry.mutate({ path: { id: row.id }, headers: { 'Idempotency-Key': newIdempotencyKey() } })
                }
              >
                Resend
              </Button>
            ),
          },
        ]}
      />
      {retry.error != null && <Text c="red">{errorMessage(retry.error)}</Text>}
      {retry.isSuccess && <Text c="green">Queued again.</Text>}
      <LoadMore {...deliveries} empty={deliveries.isSuccess && rows.length === 0} />
    </Stack>
  );
}

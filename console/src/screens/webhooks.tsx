import { Alert, Button, Code, Group, MultiSelect, Stack, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import type { CreateWebhookDto, DeliveryResponseDto, WebhookResponseDto } from '../api/generated';
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
import { ActionDialog } from '../components/action-dialog';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { EVENT_TYPES } from '../lib/event-types';
import { utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

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
  const invalidate = useInvalidate();
  const webhooks = useQuery(listWebhooksOptions());
  const [secret, setSecret] = useState<{ label: string; secret: string } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const test = useMutation({
    ...testWebhookMutation(),
    onSuccess: (_data, { path }) => {
      testing.close();
      setNotice('Test event queued: see its delivery under Deliveries.');
      void invalidate(affected.deliveries(path.id));
    },
  });
  const update = useMutation({
    ...updateWebhookMutation(),
    onSuccess: () => {
      pausing.close();
      void invalidate(affected.webhooks());
    },
  });
  const rotate = useMutation({
    ...rotateWebhookSecretMutation(),
    onSuccess: (data) => {
      rotating.close();
      setSecret({
        label: `New signing secret (shown once; the previous one works until ${utc(data.previousSecretExpiresAt)})`,
        secret: data.secret,
      });
      void invalidate(affected.webhooks());
    },
  });
  const testing = useCommandDialog<WebhookResponseDto>(() => test.reset());
  const pausing = useCommandDialog<WebhookResponseDto>(() => update.reset());
  const rotating = useCommandDialog<WebhookResponseDto>(() => rotate.reset());
  const paused = pausing.subject;

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
      {notice && (
        <Alert color="blue" withCloseButton onClose={() => setNotice(null)}>
          {notice}
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
                <Button size="xs" variant="light" onClick={() => testing.open(row)}>
                  Send test
                </Button>
                <Button size="xs" variant="light" onClick={() => pausing.open(row)}>
                  {row.isActive ? 'Pause' : 'Resume'}
                </Button>
                <Button size="xs" variant="light" onClick={() => rotating.open(row)}>
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
      <ActionDialog
        title={`Send a test event to ${testing.subject?.url ?? ''}`}
        dialog={testing}
        submitLabel="Send test"
        pending={test.isPending}
        error={test.error}
        onSubmit={() => testing.subject && test.mutate({ path: { id: testing.subject.id }, headers: testing.headers })}
      >
        <Text size="sm">A `webhook.test` event, queued for this endpoint only, signed like every delivery.</Text>
      </ActionDialog>
      <ActionDialog
        title={`${paused?.isActive ? 'Pause' : 'Resume'} ${paused?.url ?? ''}`}
        dialog={pausing}
        submitLabel={paused?.isActive ? 'Pause endpoint' : 'Resume endpoint'}
        color={paused?.isActive ? 'orange' : undefined}
        pending={update.isPending}
        error={update.error}
        onSubmit={() =>
          paused &&
          update.mutate({ path: { id: paused.id }, body: { isActive: !paused.isActive }, headers: pausing.headers })
        }
      >
        <Text size="sm">
          {paused?.isActive
            ? 'Nothing is sent while it is paused: its pending deliveries fail (resend them later).'
            : 'Deliveries are sent to it again from now on.'}
        </Text>
      </ActionDialog>
      {/* Rotation is a dialog: its Idempotency-Key is made on opening, so a double click rotates once. */}
      <ActionDialog
        title={`Rotate the signing secret of ${rotating.subject?.url ?? ''}`}
        dialog={rotating}
        submitLabel="Rotate"
        color="orange"
        pending={rotate.isPending}
        error={rotate.error}
        onSubmit={() =>
          rotating.subject && rotate.mutate({ path: { id: rotating.subject.id }, headers: rotating.headers })
        }
      >
        <Text size="sm">
          A new secret signs every delivery from now on; the previous one stays valid for a while so receivers can
          switch.
        </Text>
      </ActionDialog>
    </Stack>
  );
}

const EMPTY_WEBHOOK = { url: '', events: ['*'], description: '' };

function CreateWebhook({ onCreated }: { onCreated: (secret: string) => void }) {
  const invalidate = useInvalidate();
  const [form, setForm] = useState(EMPTY_WEBHOOK);
  const create = useMutation({
    ...createWebhookMutation(),
    onSuccess: (data) => {
      dialog.close();
      onCreated(data.secret);
      void invalidate(affected.webhooks());
    },
  });
  const dialog = useCommandDialog(() => {
    create.reset();
    setForm(EMPTY_WEBHOOK);
  });
  return (
    <>
      <Button onClick={() => dialog.open(true)}>New webhook</Button>
      <ActionDialog
        title="New webhook endpoint"
        dialog={dialog}
        submitLabel="Create webhook"
        pending={create.isPending}
        error={create.error}
        onSubmit={() =>
          create.mutate({
            body: {
              url: form.url,
              events: form.events as CreateWebhookDto['events'],
              ...(form.description ? { description: form.description } : {}),
            },
            headers: dialog.headers,
          })
        }
      >
        <TextInput
          label="URL"
          value={form.url}
          onChange={(e) => setForm({ ...form, url: e.currentTarget.value })}
          required
        />
        <MultiSelect
          label="Events"
          data={SUBSCRIBABLE}
          value={form.events}
          onChange={(events) => setForm({ ...form, events })}
        />
        <TextInput
          label="Description"
          value={form.description}
          onChange={(e) => setForm({ ...form, description: e.currentTarget.value })}
        />
      </ActionDialog>
    </>
  );
}

function Deliveries({ webhookId }: { webhookId: string }) {
  const invalidate = useInvalidate();
  const deliveries = useInfiniteQuery({
    ...listWebhookDeliveriesInfiniteOptions({ path: { id: webhookId } }),
    ...cursorPaging,
  });
  const retry = useMutation({
    ...retryWebhookDeliveryMutation(),
    onSuccess: () => {
      resending.close();
      void invalidate(affected.deliveries(webhookId));
    },
  });
  const resending = useCommandDialog<DeliveryResponseDto>(() => retry.reset());
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
              <Button size="xs" variant="light" onClick={() => resending.open(row)}>
                Resend
              </Button>
            ),
          },
        ]}
      />
      {retry.isSuccess && <Text c="green">Queued again.</Text>}
      <LoadMore {...deliveries} empty={deliveries.isSuccess && rows.length === 0} />
      <ActionDialog
        title={`Resend the ${resending.subject?.type ?? ''} delivery`}
        dialog={resending}
        submitLabel="Resend"
        pending={retry.isPending}
        error={retry.error}
        onSubmit={() =>
          resending.subject && retry.mutate({ path: { id: resending.subject.id }, headers: resending.headers })
        }
      >
        <Text size="sm">Queues it again, with the same event id and body ({resending.subject?.eventId}).</Text>
      </ActionDialog>
    </Stack>
  );
}

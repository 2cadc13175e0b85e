import { Alert, Badge, Group, SimpleGrid, Stack, Text, Textarea, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import type { CreateRerateDto, RerateResponseDto } from '../api/generated';
import { createRerateMutation, getRerateOptions, listReratesOptions } from '../api/generated/@tanstack/react-query.gen';
import { ActionDialog } from '../components/action-dialog';
import { DataTable } from '../components/data-table';
import { Stat } from '../components/stat';
import { credits, errorMessage, utc } from '../lib/format';
import { type CommandDialog, useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

/** A simulation's body without its grouping: what a re-rate of the same range and rules takes. */
export type RerateRange = Omit<CreateRerateDto, 'rerateId' | 'reason'>;

/** How often a running re-rate's progress is read again. */
const PROGRESS_EVERY_MS = 1000;

const signed = (n: number) => (n > 0 ? `+${credits(n)}` : credits(n));

function StatusBadge({ status }: { status: RerateResponseDto['status'] }) {
  const color = status === 'completed' ? 'green' : status === 'failed' ? 'red' : 'blue';
  return (
    <Badge color={color} variant="light">
      {status}
    </Badge>
  );
}

/**
 * **Apply as re-rate** (admins): the simulated range and rules as a re-rate (POST /api/pricing/rerates),
 * with the reason typed here. The rerateId is made when the dialog opens (`console-<key>`), with the
 * opening's Idempotency-Key, so a retry of one opening answers the same re-rate.
 */
export function useApplyRerateDialog(onStarted: (rerate: RerateResponseDto) => void) {
  const invalidate = useInvalidate();
  const [reason, setReason] = useState('');
  const apply = useMutation({
    ...createRerateMutation(),
    onSuccess: (rerate) => {
      dialog.close();
      onStarted(rerate);
      void invalidate(affected.rerates());
    },
  });
  const dialog = useCommandDialog<RerateRange>(() => {
    apply.reset();
    setReason('');
  });
  return { dialog, apply, reason, setReason };
}

export function ApplyRerateDialog(props: ReturnType<typeof useApplyRerateDialog>) {
  const { dialog, apply, reason, setReason } = props;
  const range = dialog.subject;
  const who = range?.userId ? `user ${range.userId}` : range?.orgId ? `org ${range.orgId}` : 'every account';
  return (
    <ActionDialog
      title="Apply as re-rate"
      dialog={dialog as CommandDialog<RerateRange>}
      submitLabel="Apply re-rate"
      pending={apply.isPending}
      error={apply.error}
      disabled={reason.trim() === ''}
      onSubmit={() =>
        range &&
        apply.mutate({
          body: { ...range, rerateId: `console-${dialog.headers['Idempotency-Key']}`, reason: reason.trim() },
          headers: dialog.headers,
        })
      }
    >
      <Text size="sm">
        Every record of {who} from {utc(range?.from)} to {utc(range?.to)} (by when it happened) whose credits under
        these rules differ from its net credits gets one correction. The live price rules do not change.
      </Text>
      <Textarea
        label="Reason"
        value={reason}
        onChange={(e) => setReason(e.currentTarget.value)}
        maxLength={500}
        required
        data-autofocus
      />
    </ActionDialog>
  );
}

/** A re-rate's progress, read again every second while it runs (GET /api/pricing/rerates/:id). */
export function RerateProgress({ id }: { id: string }) {
  const invalidate = useInvalidate();
  const rerate = useQuery({
    ...getRerateOptions({ path: { id } }),
    refetchInterval: (query) => (query.state.data?.status === 'running' ? PROGRESS_EVERY_MS : false),
  });
  const r = rerate.data;
  const finished = r !== undefined && r.status !== 'running';
  // Once it has finished, the list shows its final figures too.
  useEffect(() => {
    if (finished) void invalidate(affected.rerates());
  }, [finished]);
  if (rerate.error) {
    return (
      <Alert color="red" role="alert">
        {errorMessage(rerate.error)}
      </Alert>
    );
  }
  if (!r) return null;
  return (
    <Stack gap="xs" role="region" aria-label="Re-rate progress">
      <Group gap="xs">
        <Text fw={600}>Re-rate {r.rerateId}</Text>
        <StatusBadge status={r.status} />
      </Group>
      <SimpleGrid cols={{ base: 1, xs: 3 }}>
        <Stat label="Records examined" value={r.records} />
        <Stat label="Records corrected" value={r.corrected} />
        <Stat label="Delta (credits)" value={r.delta} />
      </SimpleGrid>
      {r.lastError && (
        <Alert color="red" role="alert">
          {r.lastError}
        </Alert>
      )}
    </Stack>
  );
}

/** The latest re-rates (GET /api/pricing/rerates), newest first. */
export function RecentRerates() {
  const list = useQuery(listReratesOptions({ query: { limit: 10 } }));
  const rows = list.data?.items ?? [];
  return (
    <Stack gap="xs">
      <Title order={3} size="h5">
        Recent re-rates
      </Title>
      <DataTable<RerateResponseDto>
        label="Recent re-rates"
        rows={rows}
        rowKey={(r) => r.id}
        columns={[
          { label: 'Started (UTC)', render: (r) => utc(r.startedAt) },
          { label: 'Re-rate id', render: (r) => r.rerateId },
          { label: 'Range (UTC)', render: (r) => `${utc(r.from)} – ${utc(r.to)}` },
          { label: 'Account', render: (r) => r.userId ?? (r.orgId ? `org ${r.orgId}` : 'all') },
          { label: 'Status', render: (r) => r.status },
          { label: 'Examined', render: (r) => credits(r.records), numeric: true },
          { label: 'Corrected', render: (r) => credits(r.corrected), numeric: true },
          { label: 'Delta', render: (r) => signed(r.delta), numeric: true },
          { label: 'Reason', render: (r) => r.reason },
          { label: 'By', render: (r) => r.createdBy },
        ]}
      />
      {list.isSuccess && rows.length === 0 && (
        <Text size="sm" c="dimmed">
          No re-rates yet.
        </Text>
      )}
    </Stack>
  );
}

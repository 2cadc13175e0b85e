import { Badge, Button, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useState } from 'react';

import type { AuditEntryDto, ListAuditEntriesData } from '../api/generated';
import { listAuditEntriesInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { utc } from '../lib/format';
import { changeOf, valueText } from './audit-change';

export type AuditSearch = NonNullable<ListAuditEntriesData['query']>;
type Action = NonNullable<AuditSearch['action']>;
type TargetType = NonNullable<AuditSearch['targetType']>;

const ACTIONS: Action[] = [
  'credits.allocate',
  'credits.void',
  'credits.limits.set',
  'credits.alerts.set',
  'usage.resolve',
  'pricing.create',
  'pricing.import',
  'plan.create',
  'plan.update',
  'subscription.set',
  'subscription.delete',
  'api_key.create',
  'api_key.update',
  'api_key.revoke',
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.rotate_secret',
  'webhook.retry',
  'session.abort',
];
const TARGET_TYPES: TargetType[] = [
  'allocation',
  'user',
  'usage_record',
  'pricing_rule',
  'pricing_import',
  'plan',
  'api_key',
  'webhook',
  'webhook_delivery',
  'streaming_session',
];
const TEXT_FIELDS = ['actor', 'targetId', 'from', 'to'] as const;

/** The audit filters live in the URL (typed): a shared link opens the same entries. */
export function auditSearch(raw: Record<string, unknown>): AuditSearch {
  const out: AuditSearch = {};
  for (const field of TEXT_FIELDS) {
    const value = raw[field];
    if (typeof value === 'string' && value) out[field] = value;
  }
  if (ACTIONS.includes(raw.action as Action)) out.action = raw.action as Action;
  if (TARGET_TYPES.includes(raw.targetType as TargetType)) out.targetType = raw.targetType as TargetType;
  return out;
}

export function AuditScreen() {
  const operator = useOperator();
  const search = useSearch({ from: '/audit' });
  const navigate = useNavigate({ from: '/audit' });
  const [draft, setDraft] = useState<AuditSearch>(search);
  const audit = useInfiniteQuery({
    ...listAuditEntriesInfiniteOptions({ query: search }),
    ...cursorPaging,
    enabled: operator.isAdmin,
  });
  const rows = pagesOf(audit.data);
  if (!operator.isAdmin) return <ScreenTitle>Audit log (admins only)</ScreenTitle>;
  const text = (field: (typeof TEXT_FIELDS)[number], label: string) => (
    <TextInput
      label={label}
      value={draft[field] ?? ''}
      onChange={(e) => setDraft({ ...draft, [field]: e.currentTarget.value || undefined })}
      w={170}
    />
  );
  return (
    <Stack>
      <ScreenTitle>Audit log</ScreenTitle>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void navigate({ search: auditSearch({ ...draft }) });
        }}
      >
        <Group align="end">
          {text('actor', 'Actor')}
          <Select
            label="Action"
            placeholder="Any"
            data={ACTIONS}
            value={draft.action ?? null}
            onChange={(v) => setDraft({ ...draft, action: (v as Action) ?? undefined })}
            clearable
            w={200}
          />
          <Select
            label="Target type"
            placeholder="Any"
            data={TARGET_TYPES}
            value={draft.targetType ?? null}
            onChange={(v) => setDraft({ ...draft, targetType: (v as TargetType) ?? undefined })}
            clearable
            w={170}
          />
          {text('targetId', 'Target id')}
          {text('from', 'From (UTC date)')}
          {text('to', 'To (UTC date)')}
          <Button type="submit">Filter</Button>
        </Group>
      </form>
      <DataTable<AuditEntryDto>
        label="Audit entries"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.at) },
          {
            label: 'Actor',
            // A usage record that is its own entry keeps no role: only how it was written.
            render: (row) => `${row.actor.userId} (${[row.actor.role, row.actor.via].filter(Boolean).join(', ')})`,
          },
          { label: 'Action', render: (row) => row.action },
          { label: 'Target', render: (row) => `${row.target.type} ${row.target.id}` },
          { label: 'Change', render: (row) => <ChangeCell entry={row} /> },
        ]}
      />
      <LoadMore {...audit} empty={audit.isSuccess && rows.length === 0} />
    </Stack>
  );
}

/**
 * What the entry changed, compactly: the changed fields as `field before → after`, or for a creation
 * (deletion) the fields it set (held), nulls left out; wrapped inline, so an entry takes a line or two.
 */
function ChangeCell({ entry }: { entry: AuditEntryDto }) {
  const change = changeOf(entry.before, entry.after, entry.target.id);
  return (
    <Text size="xs" component="div" maw={640}>
      {change.kind !== 'changed' && (
        <Badge size="xs" variant="light" color={change.kind === 'created' ? 'green' : 'red'} mr={6}>
          {change.kind}
        </Badge>
      )}
      {change.fields.length === 0 && change.kind === 'changed' && (
        <Text span inherit c="dimmed">
          no change
        </Text>
      )}
      {change.fields.map(({ field, before, after }, i) => (
        <Text span inherit key={field}>
          {i > 0 && (
            <Text span inherit c="dimmed">
              {' '}
              ·{' '}
            </Text>
          )}
          <Text span inherit c="dimmed">
            {field}{' '}
          </Text>
          <Text span inherit ff="monospace">
            {change.kind === 'changed'
              ? `${valueText(before)} → ${valueText(after)}`
              : valueText(change.kind === 'created' ? after : before)}
          </Text>
        </Text>
      ))}
    </Text>
  );
}

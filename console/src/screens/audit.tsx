import { Button, Code, Group, Stack, TextInput } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useState } from 'react';

import { type AuditEntry, type AuditQuery, operatorQueries } from '../api/operator';
import { useOperator } from '../auth';
import { DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { utc } from '../lib/format';

const FIELDS = ['actor', 'action', 'targetType', 'targetId', 'from', 'to'] as const;

/** The audit filters live in the URL (typed): a shared link opens the same entries. */
export function auditSearch(raw: Record<string, unknown>): AuditQuery {
  const out: AuditQuery = {};
  for (const field of FIELDS) {
    const value = raw[field];
    if (typeof value === 'string' && value) out[field] = value;
  }
  return out;
}

export function AuditScreen() {
  const operator = useOperator();
  const search = useSearch({ from: '/audit' });
  const navigate = useNavigate({ from: '/audit' });
  const [draft, setDraft] = useState<AuditQuery>(search);
  const audit = useInfiniteQuery({ ...operatorQueries.audit(search), enabled: operator.isAdmin });
  const rows = pagesOf(audit.data);
  if (!operator.isAdmin) return <ScreenTitle>Audit log (admins only)</ScreenTitle>;
  const input = (field: (typeof FIELDS)[number], label: string) => (
    <TextInput label={label} value={draft[field] ?? ''} onChange={(e) => setDraft({ ...draft, [field]: e.currentTarget.value || undefined })} w={170} />
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
          {input('actor', 'Actor')}
          {input('action', 'Action')}
          {input('targetType', 'Target type')}
          {input('targetId', 'Target id')}
          {input('from', 'From (UTC date)')}
          {input('to', 'To (UTC date)')}
          <Button type="submit">Filter</Button>
        </Group>
      </form>
      <DataTable<AuditEntry>
        label="Audit entries"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.at) },
          { label: 'Actor', render: (row) => `${row.actor.userId} (${row.actor.role}, ${row.actor.via})` },
          { label: 'Action', render: (row) => row.action },
          { label: 'Target', render: (row) => `${row.target.type} ${row.target.id}` },
          { label: 'Before', render: (row) => <Code block>{JSON.stringify(row.before, null, 1)}</Code> },
          { label: 'After', render: (row) => <Code block>{JSON.stringify(row.after, null, 1)}</Code> },
        ]}
      />
      <LoadMore {...audit} empty={audit.isSuccess && rows.length === 0} />
    </Stack>
  );
}

import { Badge, Button, Code, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useState } from 'react';

import type { ListNotificationsData, NotificationResponseDto } from '../api/generated';
import { getNotificationOptions, listNotificationsInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { errorMessage, utc } from '../lib/format';

type Status = NotificationResponseDto['status'];
const STATUSES: Status[] = ['pending', 'sent', 'failed', 'suppressed', 'kept'];
const STATUS_COLOR: Record<Status, string> = {
  pending: 'yellow',
  sent: 'green',
  failed: 'red',
  suppressed: 'gray',
  kept: 'blue',
};

export type EmailsSearch = NonNullable<Pick<NonNullable<ListNotificationsData['query']>, 'userId' | 'status'>>;

/** The Emails screen's filters, from the URL. */
export function emailsSearch(raw: Record<string, unknown>): EmailsSearch {
  const out: EmailsSearch = {};
  if (typeof raw.userId === 'string' && raw.userId) out.userId = raw.userId;
  if (STATUSES.includes(raw.status as Status)) out.status = raw.status as Status;
  return out;
}

/**
 * Every email the service made, newest first. Without SMTP_URL they are `kept`, not sent: this is
 * where a developer reads them.
 */
export function EmailsScreen() {
  const search = useSearch({ from: '/emails' });
  const navigate = useNavigate({ from: '/emails' });
  const [userId, setUserId] = useState(search.userId ?? '');
  const [open, setOpen] = useState<string | null>(null);
  const emails = useInfiniteQuery({ ...listNotificationsInfiniteOptions({ query: search }), ...cursorPaging });
  const rows = pagesOf(emails.data);
  return (
    <Stack>
      <ScreenTitle>Emails</ScreenTitle>
      <Group align="end">
        <Select
          label="Status"
          placeholder="Every status"
          data={STATUSES}
          value={search.status ?? null}
          onChange={(status) => void navigate({ search: emailsSearch({ ...search, status }) })}
          clearable
        />
        <TextInput
          label="User"
          value={userId}
          onChange={(e) => setUserId(e.currentTarget.value.trim())}
          onBlur={() => void navigate({ search: emailsSearch({ ...search, userId }) })}
          onKeyDown={(e) => {
            if (e.key === 'Enter') void navigate({ search: emailsSearch({ ...search, userId }) });
          }}
        />
      </Group>
      {emails.isError && <Text c="red">{errorMessage(emails.error)}</Text>}
      <DataTable<NotificationResponseDto>
        label="Emails"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.createdAt) },
          { label: 'To', render: (row) => row.to ?? '—' },
          { label: 'Kind', render: (row) => row.kind },
          { label: 'Subject', render: (row) => row.subject ?? '—' },
          {
            label: 'Status',
            render: (row) => (
              <Badge color={STATUS_COLOR[row.status]} variant="light">
                {row.status}
              </Badge>
            ),
          },
          { label: 'Attempts', render: (row) => row.attempts, numeric: true },
          {
            label: 'Email',
            render: (row) => (
              <Button
                size="xs"
                variant="subtle"
                aria-expanded={open === row.id}
                aria-label={`${open === row.id ? 'Hide' : 'Read'} email ${row.subject ?? row.id}`}
                onClick={() => setOpen(open === row.id ? null : row.id)}
              >
                {open === row.id ? 'Hide' : 'Read'}
              </Button>
            ),
          },
        ]}
        detail={(row) => open === row.id && <EmailBody id={row.id} />}
      />
      <LoadMore {...emails} empty={emails.isSuccess && rows.length === 0} />
    </Stack>
  );
}

/** Long links (the unsubscribe one) wrap instead of widening the page. */
const WRAP = { whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' } as const;

/** One email's parts: the text as the recipient reads it, the HTML part's source beneath. */
function EmailBody({ id }: { id: string }) {
  const email = useQuery(getNotificationOptions({ path: { id } }));
  if (email.isError) return <Text c="red">{errorMessage(email.error)}</Text>;
  if (!email.data) return <Text c="dimmed">Loading…</Text>;
  const { data } = email;
  return (
    <Stack gap="xs" role="region" aria-label={`Email ${data.subject ?? data.id}`}>
      <Text size="sm">
        <b>To:</b> {data.to ?? '—'} · <b>Subject:</b> {data.subject ?? '—'}
        {data.lastError && (
          <>
            {' '}
            · <b>Last error:</b> {data.lastError}
          </>
        )}
      </Text>
      {data.text === null ? (
        <Text c="dimmed">Not made yet: the worker makes it at its first attempt.</Text>
      ) : (
        <Code block style={WRAP}>
          {data.text}
        </Code>
      )}
      {data.html && (
        <details>
          <summary>HTML part</summary>
          <Code block style={WRAP}>
            {data.html}
          </Code>
        </details>
      )}
    </Stack>
  );
}

import { Code, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';

import type { EventResponseDto, ListEventsData } from '../api/generated';
import { listEventsInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { EVENT_TYPES } from '../lib/event-types';
import { utc } from '../lib/format';

export function EventsScreen() {
  const operator = useOperator();
  const [type, setType] = useState<string | null>(null);
  const [userId, setUserId] = useState('');
  if (!operator.isAdmin) {
    return (
      <>
        <ScreenTitle>Events</ScreenTitle>
        <Text c="dimmed">The event log is for admins.</Text>
      </>
    );
  }
  return (
    <Stack>
      <ScreenTitle>Events</ScreenTitle>
      <Group>
        <Select
          label="Type"
          placeholder="Every type"
          data={[...EVENT_TYPES]}
          value={type}
          onChange={setType}
          clearable
        />
        <TextInput label="User" value={userId} onChange={(e) => setUserId(e.currentTarget.value.trim())} />
      </Group>
      <EventList
        query={{ ...(type ? { type: type as EventResponseDto['type'] } : {}), ...(userId ? { userId } : {}) }}
      />
    </Stack>
  );
}

/** The event log for a query (newest first) with Load more: the Events screen's, and a user's tab. */
export function EventList({ query }: { query: NonNullable<ListEventsData['query']> }) {
  const events = useInfiniteQuery({ ...listEventsInfiniteOptions({ query }), ...cursorPaging });
  const rows = pagesOf(events.data);
  return (
    <>
      <DataTable<EventResponseDto>
        label="Events"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.createdAt) },
          { label: 'Type', render: (row) => row.type },
          { label: 'Data', render: (row) => <Code>{JSON.stringify(row.data)}</Code> },
        ]}
      />
      <LoadMore {...events} empty={events.isSuccess && rows.length === 0} />
    </>
  );
}

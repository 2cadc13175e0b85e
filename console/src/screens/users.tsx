import { Group, Select, Switch, Table, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useRouter, useSearch } from '@tanstack/react-router';
import { useEffect, useRef, useState } from 'react';

import { listPlansOptions, listUsersInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import { cursorPaging, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { credits, utc } from '../lib/format';

const SORTS = ['created', '-created', '-balance', '-debt'] as const;
type Sort = (typeof SORTS)[number];

export interface UsersSearch {
  search?: string;
  sort?: Sort;
  hasDebt?: boolean;
  planId?: string;
}

/** Typed URL search params: a shared link opens the same list. */
export function usersSearch(raw: Record<string, unknown>): UsersSearch {
  return {
    search: typeof raw.search === 'string' && raw.search ? raw.search : undefined,
    sort: SORTS.includes(raw.sort as Sort) ? (raw.sort as Sort) : undefined,
    hasDebt: raw.hasDebt === true || raw.hasDebt === 'true' ? true : undefined,
    planId: typeof raw.planId === 'string' && raw.planId ? raw.planId : undefined,
  };
}

export function UsersScreen() {
  const search = useSearch({ from: '/users' });
  const navigate = useNavigate({ from: '/users' });
  const [text, setText] = useState(search.search ?? '');
  const [debounced] = useDebouncedValue(text, 250);
  // The box is written to the URL once typing pauses, but only while the browser is still on this
  // list: a user's link (or any link) clicked within the pause must not be replaced by the list again.
  const router = useRouter();
  const listPath = useRef(router.history.location.pathname);
  useEffect(() => {
    if (router.history.location.pathname !== listPath.current) return;
    if ((debounced || undefined) !== search.search) {
      void navigate({ search: (s) => ({ ...s, search: debounced || undefined }), replace: true });
    }
  }, [debounced, search.search, navigate, router]);

  const query = { search: search.search, sort: search.sort, hasDebt: search.hasDebt, planId: search.planId };
  const users = useInfiniteQuery({
    ...listUsersInfiniteOptions({ query }),
    ...cursorPaging,
  });
  const plans = useQuery(listPlansOptions());
  const rows = pagesOf(users.data);

  return (
    <>
      <ScreenTitle>Users</ScreenTitle>
      <Group mb="md" align="end">
        <TextInput
          label="Search users"
          placeholder="id, email or username"
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          w={300}
        />
        <Select
          label="Sort"
          data={[
            { value: 'created', label: 'Oldest first' },
            { value: '-created', label: 'Newest first' },
            { value: '-balance', label: 'Largest balance' },
            { value: '-debt', label: 'Largest debt' },
          ]}
          value={search.sort ?? 'created'}
          onChange={(value) =>
            void navigate({ search: (s) => ({ ...s, sort: value === 'created' ? undefined : (value as Sort) }) })
          }
          allowDeselect={false}
        />
        <Select
          label="Plan"
          placeholder="Any plan"
          clearable
          data={(plans.data?.items ?? []).map((plan) => ({ value: plan.id, label: plan.name }))}
          value={search.planId ?? null}
          onChange={(value) => void navigate({ search: (s) => ({ ...s, planId: value ?? undefined }) })}
        />
        <Switch
          label="With debt only"
          checked={search.hasDebt ?? false}
          onChange={(e) => {
            const checked = e.currentTarget.checked;
            void navigate({ search: (s) => ({ ...s, hasDebt: checked || undefined }) });
          }}
          mb={8}
        />
      </Group>
      <Table.ScrollContainer minWidth={0} type="native">
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>User</Table.Th>
              <Table.Th>Email</Table.Th>
              <Table.Th>Role</Table.Th>
              <Table.Th ta="right">Available</Table.Th>
              <Table.Th ta="right">Held</Table.Th>
              <Table.Th ta="right">Debt</Table.Th>
              <Table.Th>Created (UTC)</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((user) => (
              <Table.Tr key={user.userId}>
                <Table.Td>
                  <Link to="/users/$userId" params={{ userId: user.userId }}>
                    {user.userId}
                  </Link>
                </Table.Td>
                <Table.Td>{user.email ?? '—'}</Table.Td>
                <Table.Td>{user.role}</Table.Td>
                <Table.Td ta="right">{credits(user.totalCredits)}</Table.Td>
                <Table.Td ta="right">{credits(user.heldCredits)}</Table.Td>
                <Table.Td ta="right">{credits(user.debt)}</Table.Td>
                <Table.Td>{utc(user.createdAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <LoadMore {...users} empty={users.isSuccess && rows.length === 0} />
    </>
  );
}

import { Table, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Link, useNavigate, useRouter, useSearch } from '@tanstack/react-router';
import { useEffect, useRef, useState } from 'react';

import { listOrgsInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import { cursorPaging, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { credits, utc } from '../lib/format';

export interface OrgsSearch {
  search?: string;
}

/** Typed URL search params: a shared link opens the same list. */
export function orgsSearch(raw: Record<string, unknown>): OrgsSearch {
  return { search: typeof raw.search === 'string' && raw.search ? raw.search : undefined };
}

export function OrgsScreen() {
  const search = useSearch({ from: '/orgs' });
  const navigate = useNavigate({ from: '/orgs' });
  const [text, setText] = useState(search.search ?? '');
  const [debounced] = useDebouncedValue(text, 250);
  // As on the users list: the box reaches the URL once typing pauses, only while still on this list.
  const router = useRouter();
  const listPath = useRef(router.history.location.pathname);
  useEffect(() => {
    if (router.history.location.pathname !== listPath.current) return;
    if ((debounced || undefined) !== search.search) {
      void navigate({ search: { search: debounced || undefined }, replace: true });
    }
  }, [debounced, search.search, navigate, router]);

  const orgs = useInfiniteQuery({ ...listOrgsInfiniteOptions({ query: { search: search.search } }), ...cursorPaging });
  const rows = pagesOf(orgs.data);

  return (
    <>
      <ScreenTitle>Organisations</ScreenTitle>
      <TextInput
        label="Search organisations"
        placeholder="id or name"
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        w={300}
        mb="md"
      />
      <Table.ScrollContainer minWidth={0} type="native">
        <Table striped highlightOnHover aria-label="Organisations">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Organisation</Table.Th>
              <Table.Th>Name</Table.Th>
              <Table.Th ta="right">Members</Table.Th>
              <Table.Th ta="right">Available</Table.Th>
              <Table.Th ta="right">Held</Table.Th>
              <Table.Th ta="right">Debt</Table.Th>
              <Table.Th>Created (UTC)</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((org) => (
              <Table.Tr key={org.orgId}>
                <Table.Td>
                  <Link to="/orgs/$orgId" params={{ orgId: org.orgId }}>
                    {org.orgId}
                  </Link>
                </Table.Td>
                <Table.Td>{org.name}</Table.Td>
                <Table.Td ta="right">{credits(org.memberCount)}</Table.Td>
                <Table.Td ta="right">{credits(org.totalCredits)}</Table.Td>
                <Table.Td ta="right">{credits(org.heldCredits)}</Table.Td>
                <Table.Td ta="right">{credits(org.debt)}</Table.Td>
                <Table.Td>{utc(org.createdAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <LoadMore {...orgs} empty={orgs.isSuccess && rows.length === 0} />
    </>
  );
}

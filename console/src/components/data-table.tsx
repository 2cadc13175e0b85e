import { Table } from '@mantine/core';
import type { ReactNode } from 'react';

export interface Column<T> {
  label: string;
  render: (row: T) => ReactNode;
  numeric?: boolean;
}

/** A plain table of rows; numbers right-aligned. */
export function DataTable<T>({
  rows,
  columns,
  rowKey,
  label,
}: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  label?: string;
}) {
  return (
    <Table striped highlightOnHover aria-label={label}>
      <Table.Thead>
        <Table.Tr>
          {columns.map((column) => (
            <Table.Th key={column.label} ta={column.numeric ? 'right' : undefined}>
              {column.label}
            </Table.Th>
          ))}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((row) => (
          <Table.Tr key={rowKey(row)}>
            {columns.map((column) => (
              <Table.Td key={column.label} ta={column.numeric ? 'right' : undefined}>
                {column.render(row)}
              </Table.Td>
            ))}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** Flattens the pages of an infinite query. */
export function pagesOf<T>(data: { pages: Array<{ items: T[] }> } | undefined): T[] {
  return data?.pages.flatMap((page) => page.items) ?? [];
}

/** TanStack Query's paging options for the API's `{ items, nextCursor }` lists. */
export const cursorPaging = {
  initialPageParam: undefined as unknown as string,
  getNextPageParam: (last: { nextCursor: string | null }) => last.nextCursor ?? undefined,
};

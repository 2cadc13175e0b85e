import { Table } from '@mantine/core';
import { Fragment, type ReactNode } from 'react';

const NUMERIC = { whiteSpace: 'nowrap' } as const;

export interface Column<T> {
  label: string;
  render: (row: T) => ReactNode;
  numeric?: boolean;
}

/**
 * A plain table of rows; numbers right-aligned and never broken. Wider than its place (a phone, or a
 * table of many columns), it scrolls sideways inside its own box never the page.
 */
export function DataTable<T>({
  rows,
  columns,
  rowKey,
  label,
  detail,
}: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  label?: string;
  /** A row's detail, shown under it across every column while it returns something (an expanded row). */
  detail?: (row: T) => ReactNode;
}) {
  return (
    <Table.ScrollContainer minWidth={0} type="native">
      <Table striped highlightOnHover aria-label={label}>
        <Table.Thead>
          <Table.Tr>
            {columns.map((column) => (
              <Table.Th
                key={column.label}
                ta={column.numeric ? 'right' : undefined}
                style={column.numeric ? NUMERIC : undefined}
              >
                {column.label}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => {
            const more = detail?.(row);
            return (
              <Fragment key={rowKey(row)}>
                <Table.Tr>
                  {columns.map((column) => (
                    <Table.Td
                      key={column.label}
                      ta={column.numeric ? 'right' : undefined}
                      style={column.numeric ? NUMERIC : undefined}
                    >
                      {column.render(row)}
                    </Table.Td>
                  ))}
                </Table.Tr>
                {more != null && more !== false && (
                  <Table.Tr>
                    <Table.Td colSpan={columns.length}>{more}</Table.Td>
                  </Table.Tr>
                )}
              </Fragment>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
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

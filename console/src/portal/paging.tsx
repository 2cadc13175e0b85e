/** TanStack Query's paging options for the API's `{ items, nextCursor }` lists. */
export const cursorPaging = {
  initialPageParam: undefined as unknown as string,
  getNextPageParam: (last: { nextCursor: string | null }) => last.nextCursor ?? undefined,
};

export function pagesOf<T>(data: { pages: Array<{ items: T[] }> } | undefined): T[] {
  return data?.pages.flatMap((page) => page.items) ?? [];
}

/** "Load more" while the API has a next cursor. */
export function LoadMore({
  query,
}: {
  query: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown };
}) {
  if (!query.hasNextPage) return null;
  return (
    <p className="more">
      <button type="button" className="secondary" onClick={() => void query.fetchNextPage()}>
        {query.isFetchingNextPage ? 'Loading…' : 'Load more'}
      </button>
    </p>
  );
}

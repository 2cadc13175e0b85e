import { Button, Center, Text } from '@mantine/core';

/** The foot of a cursor list: "Load more" while the API has a nextCursor. */
export function LoadMore(props: {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
  empty?: boolean;
}) {
  if (props.empty) {
    return (
      <Text c="dimmed" ta="center" py="md">
        Nothing here.
      </Text>
    );
  }
  if (!props.hasNextPage) return null;
  return (
    <Center py="sm">
      <Button variant="light" loading={props.isFetchingNextPage} onClick={() => void props.fetchNextPage()}>
        Load more
      </Button>
    </Center>
  );
}

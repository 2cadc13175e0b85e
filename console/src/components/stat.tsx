import { Card, Text } from '@mantine/core';

import { credits } from '../lib/format';

/**
 * A figure in credits under its label (the label is also its accessible name). The figure is never
 * cut: a narrow card breaks it rather than hide its last digits.
 */
export function Stat({ label, value }: { label: string; value: number | undefined }) {
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} aria-label={label} style={{ overflowWrap: 'anywhere' }}>
        {credits(value)}
      </Text>
    </Card>
  );
}

import { Column } from 'typeorm';

/**
 * An instant: `timestamptz`, so what a row holds means the same whatever a session's time zone.
 * `defaultNow`: PostgreSQL stamps the insert with `now()` (its transaction's start) when the writer
 * names no time.
 */
export function TimestampColumn(
  name: string,
  { nullable = false, defaultNow = false }: { nullable?: boolean; defaultNow?: boolean } = {},
): PropertyDecorator {
  return Column({ name, type: 'timestamptz', nullable, ...(defaultNow ? { default: () => 'now()' } : {}) });
}

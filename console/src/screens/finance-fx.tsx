import { Button, Stack, Table, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';

import type { FxRatesListResponseDto } from '../api/generated';

/** The days of the list shown before **Show all**: the newest ones. */
const FIRST_DAYS = 10;

/** `a`, `a and b`, `a, b and c`. */
function listed(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * A 422 FX_RATE_MISSING answer (docs/finance.md "The reporting currency") as a sentence naming the
 * UTC days without a rate, or null for any other error.
 */
export function fxRateMissing(error: unknown, reportingCurrency: string): string | null {
  if (!error || typeof error !== 'object' || (error as { code?: unknown }).code !== 'FX_RATE_MISSING') return null;
  const days = (error as { days?: unknown }).days;
  const named = Array.isArray(days) ? days.filter((d): d is string => typeof d === 'string') : [];
  const into = reportingCurrency.toUpperCase();
  if (named.length === 0) return `Some days have no FX rate into ${into}: store their rates to see these figures.`;
  const [what, when] = named.length === 1 ? ['that day’s rates', 'a day'] : ['those days’ rates', 'days'];
  return (
    `No FX rate into ${into} is stored for ${listed(named)} (UTC), ${when} on which money of another ` +
    `currency moved: store ${what} (PUT /api/finance/fx-rates) to see the figures in ${into}.`
  );
}

/**
 * The stored FX rates of the page's range, newest day first: how many units of the reporting
 * currency one unit of each currency was worth on a UTC day, as the API gives them.
 */
export function FxRates({ list }: { list: FxRatesListResponseDto }) {
  const [all, setAll] = useState(false);
  const base = list.base.toUpperCase();
  const days = useMemo(() => [...list.days].reverse(), [list.days]);
  const currencies = useMemo(() => [...new Set(list.days.flatMap((d) => Object.keys(d.rates)))].sort(), [list.days]);
  const shown = all ? days : days.slice(0, FIRST_DAYS);
  return (
    <Stack gap="xs">
      <Title order={2} size="h3">
        FX rates into {base}
      </Title>
      {days.length === 0 ? (
        <Text c="dimmed">
          No FX rates stored from {list.from} to before {list.to}: the figures in {base} need a rate for every day on
          which money of another currency moved.
        </Text>
      ) : (
        <>
          <Text size="sm" c="dimmed">
            How many {base} one unit of each currency is worth on a UTC day ({list.from} to before {list.to}).
          </Text>
          <Table.ScrollContainer minWidth={0} type="native">
            <Table aria-label={`FX rates into ${base}`} striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>UTC day</Table.Th>
                  {currencies.map((c) => (
                    <Table.Th key={c} style={{ textAlign: 'right' }}>
                      {c.toUpperCase()}
                    </Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {shown.map((d) => (
                  <Table.Tr key={d.date}>
                    <Table.Td>{d.date}</Table.Td>
                    {currencies.map((c) => (
                      <Table.Td key={c} style={{ textAlign: 'right' }}>
                        {d.rates[c] ?? '—'}
                      </Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {days.length > FIRST_DAYS && (
            <Button variant="subtle" w="fit-content" onClick={() => setAll(!all)}>
              {all ? 'Show the newest days only' : `Show all ${days.length} days`}
            </Button>
          )}
        </>
      )}
    </Stack>
  );
}

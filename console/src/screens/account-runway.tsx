import { Card, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';

import { getRunwayOptions } from '../api/generated/@tanstack/react-query.gen';
import { type Account, accountRef } from '../lib/account';
import { credits, utcDay } from '../lib/format';
import { runwayBasis, runwayDays } from '../lib/runway';

/**
 * The account's run-out day (GET /api/credits/runway) beside its balance: at the last 14 days' use,
 * or over the account's own days when it is younger (`since`: its creation), with the burn per day
 * and the credits that expire before they are used.
 */
/** A decimal string grouped, without its trailing zeros (`1269.5000` → `1,269.5`, `100.0000` → `100`); no float. */
function decimal(value: string): string {
  const [whole, fraction = ''] = value.split('.');
  const digits = fraction.replace(/0+$/, '');
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${digits ? `.${digits}` : ''}`;
}

export function AccountRunway({ account, since }: { account: Account; since: string | undefined }) {
  const days = runwayDays(since);
  const runway = useQuery({ ...getRunwayOptions({ query: { ...accountRef(account), days } }), enabled: !!since });
  const r = runway.data;
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">
        Runs out at {runwayBasis(days)}
      </Text>
      <Text size="xl" fw={700} aria-label="Runs out" style={{ overflowWrap: 'anywhere' }}>
        {runway.isError ? 'unknown' : !r ? '…' : r.runsOutAt ? utcDay(r.runsOutAt) : 'not within a year'}
        {r?.cause === 'expiry' && (
          <Text span size="sm" c="dimmed">
            {' '}
            (credits expire)
          </Text>
        )}
      </Text>
      {r && (
        <Text size="xs" c="dimmed">
          {decimal(r.burnPerDay)} credits a day
          {r.expiringBeforeUse > 0 && ` · ${credits(r.expiringBeforeUse)} expire unused`}
        </Text>
      )}
    </Card>
  );
}

import { Stack, Text } from '@mantine/core';

import { ScreenTitle } from '../layout';
import { Reconciliations } from './finance-reconciliations';
import { RollForward } from './finance-rollforward';

/**
 * What the credits are worth, for finance: the roll-forward of the liability by month, and the
 * reconciliations of Stripe's payouts with the purchases.
 */
export function FinanceScreen() {
  return (
    <Stack>
      <ScreenTitle>Finance</ScreenTitle>
      <Text c="dimmed" size="sm">
        Money is shown as the API gives it: decimal strings in the currency, months in UTC.
      </Text>
      <RollForward />
      <Reconciliations />
    </Stack>
  );
}

import { Alert, Badge, Group, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';

import type { AccountPriceResponseDto } from '../api/generated';
import { listAccountPricesOptions, listPlansOptions } from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { DataTable } from '../components/data-table';
import { errorMessage, utc } from '../lib/format';
import { KINDS, priceField, TOKEN_KINDS } from '../lib/token-kinds';
import { NewAccountPrice } from './account-price-form';
import { unitPricesText } from './pricing-dimensions';

type AccountPrice = AccountPriceResponseDto;

/**
 * What an account price says: its discount (on every price of the rule, units too), or the per-kind and
 * unit prices it replaces (decimal strings as given).
 */
function terms(price: AccountPrice): string {
  if (price.discountPercent !== null) return `${price.discountPercent} % off the rule`;
  const units = unitPricesText(price.unitPrices);
  const kinds: Array<[string, string | number | null]> = [
    ...TOKEN_KINDS.map((kind): [string, string | null] => [KINDS[kind].name, price[priceField(kind)]]),
    ['long context above', price.longContextThreshold],
  ];
  return kinds
    .filter(([, value]) => value !== null)
    .map(([label, value]) => `${label} ${value}`)
    .concat(units === null ? [] : [`units: ${units}`])
    .join(' · ');
}

function ModelList({ label, models }: { label: string; models: string[] | null | undefined }) {
  return (
    <Group gap="xs">
      <Text size="sm" fw={500}>
        {label}:
      </Text>
      {models == null ? (
        <Text size="sm" c="dimmed">
          every model
        </Text>
      ) : (
        models.map((pattern) => (
          <Badge key={pattern} variant="light" tt="none">
            {pattern}
          </Badge>
        ))
      )}
    </Group>
  );
}

/**
 * An account's pricing (docs/console.md): the model lists in force beside its keys' (the org's own, its
 * plan's) and its own prices, newest first. `orgModels` is given for an organisation.
 */
export function AccountPricing({
  account,
  planId,
  orgModels,
}: {
  account: { userId: string } | { orgId: string };
  planId: string | null | undefined;
  orgModels?: string[] | null;
}) {
  const operator = useOperator();
  const prices = useQuery(listAccountPricesOptions({ query: account }));
  const plans = useQuery({ ...listPlansOptions({ query: { limit: 500 } }), enabled: !!planId });
  const plan = plans.data?.items.find((p) => p.id === planId);
  return (
    <Stack>
      <Title order={2} size="h4">
        Model entitlements
      </Title>
      {'orgId' in account && <ModelList label="The organisation's list" models={orgModels} />}
      <ModelList label={planId ? `Plan ${planId}` : 'No plan'} models={planId ? plan?.models : null} />
      <Text size="xs" c="dimmed">
        API keys may narrow these further (their own lists, on the API keys tab).
      </Text>
      <Group justify="space-between">
        <Title order={2} size="h4">
          Account prices
        </Title>
        {operator.isAdmin && <NewAccountPrice account={account} />}
      </Group>
      {prices.isError && (
        <Alert color="red" role="alert">
          {errorMessage(prices.error)}
        </Alert>
      )}
      {prices.data?.items.length === 0 ? (
        <Text c="dimmed" size="sm">
          No account price: every model costs its rule.
        </Text>
      ) : (
        <DataTable
          label="Account prices"
          rows={prices.data?.items ?? []}
          rowKey={(row) => row.id}
          columns={[
            { label: 'Model', render: (row) => row.modelId },
            { label: 'Price', render: terms },
            { label: 'From', render: (row) => utc(row.effectiveFrom) },
            { label: 'To', render: (row) => (row.effectiveTo ? utc(row.effectiveTo) : 'open') },
            { label: 'Notes', render: (row) => row.notes ?? '' },
          ]}
        />
      )}
    </Stack>
  );
}

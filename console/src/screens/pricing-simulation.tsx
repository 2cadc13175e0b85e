import { Alert, Button, Group, Select, SimpleGrid, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import type { PricingRuleResponseDto, SimulatePricingData } from '../api/generated';
import { simulatePricingMutation } from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { DataTable } from '../components/data-table';
import { Stat } from '../components/stat';
import { credits, errorMessage, utcDaysAgo } from '../lib/format';
import { priceField, TOKEN_KINDS } from '../lib/token-kinds';
import { ApplyRerateDialog, RecentRerates, RerateProgress, useApplyRerateDialog } from './pricing-rerates';

type Body = SimulatePricingData['body'];

/** The rules in effect as a price sheet's rules (no dates): what a simulation starts from, to be edited. */
export function sheetOf(rules: PricingRuleResponseDto[]): string {
  const sheet = rules.map((rule) =>
    Object.fromEntries(
      Object.entries({
        modelId: rule.modelId,
        ...Object.fromEntries(TOKEN_KINDS.map((kind) => [priceField(kind), rule[priceField(kind)]])),
        longContextThreshold: rule.longContextThreshold,
        longContextPricePer1kTokens: rule.longContextPricePer1kTokens,
        longContextOutputPricePer1kTokens: rule.longContextOutputPricePer1kTokens,
        serviceTiers: rule.serviceTiers,
        unitPrices: rule.unitPrices,
      }).filter(([, value]) => value !== null),
    ),
  );
  return JSON.stringify(sheet, null, 2);
}

/**
 * "What would this range have cost under these rules" (POST /api/pricing/simulations): nothing is
 * written, so it needs no Idempotency-Key; the rules start as the ones in effect (difference 0).
 */
export function Simulation({ current }: { current: PricingRuleResponseDto[] }) {
  const [from, setFrom] = useState(`${utcDaysAgo(30)}T00:00:00Z`);
  const [to, setTo] = useState(`${utcDaysAgo(-1)}T00:00:00Z`);
  const [groupBy, setGroupBy] = useState<Body['groupBy']>('model');
  const [rules, setRules] = useState<string | null>(null);
  const [account, setAccount] = useState('');
  const [parseError, setParseError] = useState<string | null>(null);
  const run = useMutation(simulatePricingMutation());
  const text = rules ?? sheetOf(current);
  const result = run.data;
  const operator = useOperator();
  // The re-rate started from this screen, whose progress shows under the simulation.
  const [rerateId, setRerateId] = useState<string | null>(null);
  const applying = useApplyRerateDialog((rerate) => setRerateId(rerate.id));
  return (
    <Stack gap="xs">
      <Title order={2} size="h4">
        Simulate a price change
      </Title>
      <Text size="sm" c="dimmed">
        Every record of the range priced again with these rules (account prices still apply); nothing is written.
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          try {
            const parsed = JSON.parse(text) as Body['rules'];
            setParseError(null);
            const who = account.trim();
            const scope = who === '' ? {} : who.startsWith('org:') ? { orgId: who.slice(4) } : { userId: who };
            run.mutate({ body: { from, to, groupBy, rules: parsed, ...scope } });
          } catch {
            setParseError('Rules: not JSON (an array of rules, as in a price sheet).');
          }
        }}
      >
        <Stack gap="xs">
          <Group align="end">
            <TextInput label="From (UTC)" value={from} onChange={(e) => setFrom(e.currentTarget.value)} w={220} />
            <TextInput label="To (UTC, exclusive)" value={to} onChange={(e) => setTo(e.currentTarget.value)} w={220} />
            <Select
              label="Group by"
              data={['model', 'account', 'day']}
              value={groupBy}
              onChange={(value) => setGroupBy((value ?? 'model') as Body['groupBy'])}
              w={140}
            />
            <TextInput
              label="Account (optional)"
              description="A user id, or org:<id>"
              value={account}
              onChange={(e) => setAccount(e.currentTarget.value)}
              w={220}
            />
            <Button type="submit" loading={run.isPending}>
              Run simulation
            </Button>
          </Group>
          <Textarea
            label="Rules to simulate"
            autosize
            minRows={4}
            maxRows={14}
            ff="monospace"
            value={text}
            onChange={(e) => setRules(e.currentTarget.value)}
          />
        </Stack>
      </form>
      {(parseError ?? run.error) && (
        <Alert color="red" role="alert">
          {parseError ?? errorMessage(run.error)}
        </Alert>
      )}
      {result && (
        <>
          <SimpleGrid cols={4}>
            <Stat label="Records" value={result.records} />
            <Stat label="Billed credits" value={result.actualCredits} />
            <Stat label="Simulated credits" value={result.simulatedCredits} />
            <Stat label="Difference" value={result.difference} />
          </SimpleGrid>
          <DataTable
            label="Simulation"
            rows={result.rows}
            rowKey={(row) => row.key}
            columns={[
              {
                label: groupBy === 'day' ? 'Day (UTC)' : groupBy === 'account' ? 'Account' : 'Model',
                render: (r) => r.key,
              },
              { label: 'Records', render: (r) => credits(r.records), numeric: true },
              { label: 'Billed', render: (r) => credits(r.actualCredits), numeric: true },
              { label: 'Simulated', render: (r) => credits(r.simulatedCredits), numeric: true },
              {
                label: 'Difference',
                render: (r) => credits(r.simulatedCredits - r.actualCredits),
                numeric: true,
              },
            ]}
          />
          {operator.isAdmin && run.variables && (
            <Group>
              <Button
                variant="light"
                color="orange"
                onClick={() => {
                  const { groupBy: _grouping, ...range } = run.variables.body;
                  applying.dialog.open(range);
                }}
              >
                Apply as re-rate
              </Button>
              <Text size="sm" c="dimmed">
                Corrects every record of the range whose credits under these rules differ from its net credits.
              </Text>
            </Group>
          )}
        </>
      )}
      {rerateId && <RerateProgress id={rerateId} />}
      <RecentRerates />
      <ApplyRerateDialog {...applying} />
    </Stack>
  );
}

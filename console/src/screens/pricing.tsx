import { Anchor, Button, Group, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import type { ImportPricingData, PricingRuleResponseDto } from '../api/generated';
import {
  createPricingRuleMutation,
  getPricingHistoryOptions,
  importPricingMutation,
  listCurrentPricesOptions,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog, useDialog } from '../components/action-dialog';
import { type Column, DataTable } from '../components/data-table';
import { ScreenTitle } from '../layout';
import { utc } from '../lib/format';

/** Prices stay the API's decimal strings (`"0.0700"`): shown and sent as text, never as floats. */
const ruleColumns: Column<PricingRuleResponseDto>[] = [
  { label: 'Input / 1k tokens', render: (row) => row.pricePer1kTokens, numeric: true },
  { label: 'Output / 1k tokens', render: (row) => row.outputPricePer1kTokens ?? row.pricePer1kTokens, numeric: true },
  { label: 'Provider cost / 1k', render: (row) => row.providerCostPer1kTokens ?? '—', numeric: true },
  { label: 'From (UTC)', render: (row) => utc(row.effectiveFrom) },
  { label: 'To (UTC)', render: (row) => utc(row.effectiveTo) },
  { label: 'By', render: (row) => row.createdBy },
];

export function PricingScreen() {
  const operator = useOperator();
  const current = useQuery(listCurrentPricesOptions());
  const [model, setModel] = useState<string | null>(null);
  return (
    <Stack>
      <Group justify="space-between">
        <ScreenTitle>Pricing</ScreenTitle>
        {operator.isAdmin && (
          <Group>
            <NewRule />
            <ImportRules />
          </Group>
        )}
      </Group>
      <DataTable
        label="Prices in effect"
        rows={current.data?.items ?? []}
        rowKey={(row) => row.id}
        columns={[
          {
            label: 'Model',
            render: (row) => (
              <Anchor component="button" onClick={() => setModel(row.modelId)}>
                {row.modelId}
              </Anchor>
            ),
          },
          ...ruleColumns,
        ]}
      />
      {model && <History modelId={model} />}
    </Stack>
  );
}

function History({ modelId }: { modelId: string }) {
  const history = useQuery(getPricingHistoryOptions({ path: { modelId } }));
  return (
    <>
      <Title order={2} size="h4">
        History of {modelId}
      </Title>
      <DataTable
        label={`History of ${modelId}`}
        rows={history.data?.items ?? []}
        rowKey={(row) => row.id}
        columns={ruleColumns}
      />
    </>
  );
}

function NewRule() {
  const dialog = useDialog();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ modelId: '', price: '', output: '', providerCost: '', effectiveFrom: '' });
  const create = useMutation({
    ...createPricingRuleMutation(),
    onSuccess: () => (dialog.close(), void queryClient.invalidateQueries()),
  });
  const field = (name: keyof typeof form, label: string, required = false) => (
    <TextInput
      label={label}
      value={form[name]}
      required={required}
      onChange={(e) => setForm({ ...form, [name]: e.currentTarget.value })}
    />
  );
  return (
    <>
      <Button onClick={() => (create.reset(), dialog.open())}>New price rule</Button>
      <ActionDialog
        title="New price rule"
        opened={dialog.opened}
        onClose={dialog.close}
        submitLabel="Create rule"
        pending={create.isPending}
        error={create.error}
        onSubmit={() =>
          create.mutate({
            body: {
              modelId: form.modelId,
              pricePer1kTokens: form.price,
              ...(form.output ? { outputPricePer1kTokens: form.output } : {}),
              ...(form.providerCost ? { providerCostPer1kTokens: form.providerCost } : {}),
              ...(form.effectiveFrom ? { effectiveFrom: form.effectiveFrom } : {}),
            },
            headers: { 'Idempotency-Key': dialog.idempotencyKey },
          })
        }
      >
        {field('modelId', 'Model', true)}
        {field('price', 'Price per 1k tokens', true)}
        {field('output', 'Output price per 1k tokens')}
        {field('providerCost', 'Provider cost per 1k tokens')}
        {field('effectiveFrom', 'Effective from (ISO-8601 UTC, empty: now)')}
      </ActionDialog>
    </>
  );
}

function ImportRules() {
  const dialog = useDialog();
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const [parseError, setParseError] = useState<string | null>(null);
  const run = useMutation({
    ...importPricingMutation(),
    onSuccess: () => (dialog.close(), void queryClient.invalidateQueries()),
  });
  return (
    <>
      <Button variant="light" onClick={() => (run.reset(), dialog.open())}>
        Import rules
      </Button>
      <ActionDialog
        title="Import price rules (all or none)"
        opened={dialog.opened}
        onClose={dialog.close}
        submitLabel="Import"
        pending={run.isPending}
        error={parseError ?? run.error}
        onSubmit={() => {
          try {
            const parsed: unknown = JSON.parse(text);
            setParseError(null);
            // The server validates the sheet (400 naming the bad rule); the console only parses JSON.
            const body = (Array.isArray(parsed) ? { rules: parsed } : parsed) as ImportPricingData['body'];
            run.mutate({ body, headers: { 'Idempotency-Key': dialog.idempotencyKey } });
          } catch {
            setParseError('Not JSON: paste {"effectiveFrom"?, "rules": [...]} or an array of rules.');
          }
        }}
      >
        <Text size="sm">
          Rules as JSON, the body of POST /api/pricing/import. Decimals as strings keep their places.
        </Text>
        <Textarea
          label="Rules"
          autosize
          minRows={6}
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          ff="monospace"
        />
      </ActionDialog>
    </>
  );
}

import { Alert, Badge, Button, Card, Checkbox, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import type { CatalogModelDto, ImportCatalogResponseDto } from '../api/generated';
import { importPriceCatalogMutation, listPriceCatalogOptions } from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { type Column, DataTable } from '../components/data-table';
import { ScreenTitle } from '../layout';
import { credits, errorMessage, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';
import { CATALOG_KINDS, type CatalogKind, kindTitle } from '../lib/token-kinds';

type Model = CatalogModelDto;

/** A kind's price as the API gives it (a decimal string), or the input price a kind without its own costs. */
const priceOf = (row: Model, kind: CatalogKind) =>
  row.prices[kind] ?? <Text span inherit c="dimmed">{`${row.prices.input} (= input)`}</Text>;

/** Credits per 1,000 tokens of each kind, as the catalogue prices them now (USD × CREDITS_PER_USD, plus the markup). */
const columns: Column<Model>[] = [
  {
    label: 'Model',
    render: (row) => (
      // an id never broken at its hyphens
      <span title={row.name ?? undefined} style={{ whiteSpace: 'nowrap' }}>
        {row.model}
      </span>
    ),
  },
  { label: 'Provider', render: (row) => row.provider },
  ...CATALOG_KINDS.map((kind): Column<Model> => ({
    label: kindTitle(kind),
    render: (row) => priceOf(row, kind),
    numeric: true,
  })),
  {
    label: 'Long context',
    render: (row) =>
      row.prices.longContextThreshold == null
        ? '—'
        : `above ${credits(row.prices.longContextThreshold)}: in ${row.prices.longContextInput ?? '—'} · out ${row.prices.longContextOutput ?? '—'}`,
  },
  { label: 'Context window', render: (row) => credits(row.contextWindow), numeric: true },
  {
    label: 'Priced by',
    render: (row) =>
      row.overriddenBy ? (
        <Badge color="orange" variant="light" title={`Rule ${row.overriddenBy}`}>
          Rule
        </Badge>
      ) : (
        <Badge color="gray" variant="light">
          Catalogue
        </Badge>
      ),
  },
];

/**
 * The price catalogue (GET /api/pricing/catalog): its models at their credit prices now, by provider and
 * a search, and which of them an operator rule prices instead. Admins make rules of selected models, or
 * of a whole provider (POST /api/pricing/catalog/import).
 */
export function CatalogScreen() {
  const operator = useOperator();
  const [provider, setProvider] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 250);
  const [selected, setSelected] = useState<string[]>([]);
  const list = useQuery(listPriceCatalogOptions({ query: { ...(provider ? { provider } : {}), ...(q ? { q } : {}) } }));
  const data = list.data;
  const rows = data?.items ?? [];
  const toggle = (model: string) =>
    setSelected((now) => (now.includes(model) ? now.filter((m) => m !== model) : [...now, model]));
  const pick: Column<Model> = {
    label: 'Select',
    render: (row) => (
      <Checkbox
        aria-label={`Select ${row.model}`}
        checked={selected.includes(row.model)}
        onChange={() => toggle(row.model)}
      />
    ),
  };
  return (
    <Stack>
      <ScreenTitle>Catalogue</ScreenTitle>
      <Text size="sm" c="dimmed">
        The price catalogue prices a model no operator rule prices: credits per 1,000 tokens of each kind, its US dollar
        price × {data ? credits(data.creditsPerUsd) : '…'} credits per dollar plus a {data?.markupPercent ?? '…'} %
        markup. A model a rule prices shows <b>Rule</b>.
      </Text>
      <Text size="sm" aria-label="Catalogue version">
        {data === undefined
          ? 'Loading…'
          : data.version === null
            ? 'The price catalogue is off (PRICE_CATALOG=false).'
            : `Catalogue version ${data.version}`}
      </Text>
      <Group align="end" wrap="wrap">
        <Select
          label="Provider"
          placeholder="All providers"
          clearable
          data={data?.providers ?? []}
          value={provider}
          onChange={(value) => {
            setProvider(value);
            setSelected([]);
          }}
          w={200}
        />
        <TextInput
          label="Search"
          placeholder="Model id or name"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={240}
        />
      </Group>
      {list.error && (
        <Alert color="red" role="alert">
          {errorMessage(list.error)}
        </Alert>
      )}
      {operator.isAdmin && <ImportCatalog selected={selected} provider={provider} onDone={() => setSelected([])} />}
      <Card withBorder p="xs">
        {data && rows.length === 0 ? (
          <Text c="dimmed" size="sm">
            No catalogue model matches.
          </Text>
        ) : (
          <DataTable
            label="Catalogue models"
            rows={rows}
            rowKey={(row) => `${row.provider}/${row.model}`}
            columns={operator.isAdmin ? [pick, ...columns] : columns}
          />
        )}
      </Card>
    </Stack>
  );
}

/** Imports the selected models, or the chosen provider's every model, as rules; shows what it made. */
function ImportCatalog(props: { selected: string[]; provider: string | null; onDone: () => void }) {
  const invalidate = useInvalidate();
  const [effectiveFrom, setEffectiveFrom] = useState('');
  const [result, setResult] = useState<ImportCatalogResponseDto | null>(null);
  const dialog = useCommandDialog<{ models: string[] } | { provider: string }>(() => {
    run.reset();
    setEffectiveFrom('');
  });
  const run = useMutation({
    ...importPriceCatalogMutation(),
    onSuccess: (made) => {
      dialog.close();
      setResult(made);
      props.onDone();
      void invalidate(affected.pricing(made.items.map((rule) => rule.modelId)));
    },
  });
  const subject = dialog.subject;
  const what =
    subject === null
      ? ''
      : 'models' in subject
        ? `${subject.models.length} model${subject.models.length === 1 ? '' : 's'}: ${subject.models.join(', ')}`
        : `every model of ${subject.provider}`;
  return (
    <Stack gap="xs">
      <Group wrap="wrap">
        <Button disabled={props.selected.length === 0} onClick={() => dialog.open({ models: props.selected })}>
          Import selected as rules ({props.selected.length})
        </Button>
        {props.provider && (
          <Button variant="light" onClick={() => dialog.open({ provider: props.provider! })}>
            Import all of {props.provider}
          </Button>
        )}
      </Group>
      {result && (
        <Alert color="green" role="status" title="Imported" withCloseButton onClose={() => setResult(null)}>
          {result.created} rule{result.created === 1 ? '' : 's'} created, {result.unchanged} unchanged, in effect from{' '}
          {utc(result.effectiveFrom)}
          {result.items.length > 0 && `: ${result.items.map((rule) => rule.modelId).join(', ')}`}
        </Alert>
      )}
      <ActionDialog
        title="Import catalogue prices as rules"
        dialog={dialog}
        submitLabel="Import"
        pending={run.isPending}
        error={run.error}
        onSubmit={() => {
          if (subject === null) return;
          run.mutate({
            body: { ...subject, ...(effectiveFrom.trim() ? { effectiveFrom: effectiveFrom.trim() } : {}) },
            headers: dialog.headers,
          });
        }}
      >
        <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
          Makes an ordinary price rule of {what}, at its catalogue price now (all or none). A model whose rule already
          has exactly these prices is left as it is.
        </Text>
        <TextInput
          label="Effective from (ISO-8601 UTC, empty: now)"
          value={effectiveFrom}
          onChange={(e) => setEffectiveFrom(e.currentTarget.value)}
        />
      </ActionDialog>
    </Stack>
  );
}

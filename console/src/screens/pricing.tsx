import { Anchor, Button, Group, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';

import type { CreatePricingRuleData, ImportPricingData, PricingRuleResponseDto } from '../api/generated';
import {
  createPricingRuleMutation,
  getPricingHistoryOptions,
  importPricingMutation,
  listCurrentPricesOptions,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { type Column, DataTable } from '../components/data-table';
import { ScreenTitle } from '../layout';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';
import {
  inheritsFrom,
  KINDS,
  kindsOf,
  kindTitle,
  priceField,
  priceLabel,
  TOKEN_KINDS,
  type TokenKind,
} from '../lib/token-kinds';
import { DimensionFields, serviceTiersOf, TiersAndUnits, unitPricesOf } from './pricing-dimensions';
import { Simulation } from './pricing-simulation';
import { NO_VOLUME, VolumeFields, volumeFormOf, volumeOf, volumeText } from './pricing-volume';

type Rule = PricingRuleResponseDto;

/**
 * A price as the API gives it (a decimal string, `"0.0700"`: shown and sent as text, never as a float).
 * A kind the rule leaves unset costs another kind's price: shown as that price, marked as inherited.
 */
function Price({ own, inherited, from }: { own: string | null; inherited: string; from: string }) {
  if (own !== null) return <>{own}</>;
  // Two deliberate lines (the price, then where it comes from), never a wrap inside "(= input)".
  return (
    <Text span inherit c="dimmed" title={`Not set: the ${from} price`}>
      {inherited} <br />
      <Text span size="xs" style={{ whiteSpace: 'nowrap' }}>
        (= {from})
      </Text>
    </Text>
  );
}

/** The price a rule bills a kind at: its own, else the one it inherits. */
function priceOf(row: Rule, kind: TokenKind): string {
  const from = inheritsFrom(kind);
  return row[priceField(kind)] ?? (from === null ? row.pricePer1kTokens : priceOf(row, from));
}

/** A kind's price column: input's is the base price; a kind left unset shows the price it inherits. */
function priceColumn(kind: TokenKind): Column<Rule> {
  const from = inheritsFrom(kind);
  return {
    label: kindTitle(kind),
    render: (row) =>
      from === null ? (
        row.pricePer1kTokens
      ) : (
        <Price own={row[priceField(kind)]} inherited={priceOf(row, from)} from={KINDS[from].name} />
      ),
    numeric: true,
  };
}

function ProviderCost({ row }: { row: Rule }) {
  const cost = row.providerCost;
  if (!cost) return <>{row.providerCostPer1kTokens ?? '—'}</>;
  return (
    <Text span inherit size="xs">
      {TOKEN_KINDS.map((kind) => `${KINDS[kind].short} ${cost[kind]}`).join(' · ')}
    </Text>
  );
}

/** Credits per 1,000 tokens of each kind: every price a rule bills by, the long-context tier included. */
const ruleColumns: Column<Rule>[] = [
  ...TOKEN_KINDS.map(priceColumn),
  {
    label: 'Long context',
    render: (row) =>
      row.longContextThreshold == null
        ? '—'
        : `above ${credits(row.longContextThreshold)} tokens: in ${row.longContextPricePer1kTokens ?? '—'} · out ${row.longContextOutputPricePer1kTokens ?? '—'}`,
  },
  {
    label: 'Tiers, units and volume',
    render: (row) => (
      <>
        {/* the dash of a rule without tiers and units only when it has no steps either */}
        {(!row.volume || row.serviceTiers || row.unitPrices) && (
          <TiersAndUnits tiers={row.serviceTiers} units={row.unitPrices} />
        )}
        {row.volume && (
          <Text span size="xs" display="block">
            {volumeText(row.volume)}
          </Text>
        )}
      </>
    ),
  },
  { label: 'Provider cost', render: (row) => <ProviderCost row={row} /> },
  { label: 'From (UTC)', render: (row) => utc(row.effectiveFrom) },
  { label: 'To (UTC)', render: (row) => utc(row.effectiveTo) },
];

export function PricingScreen() {
  const operator = useOperator();
  const current = useQuery(listCurrentPricesOptions());
  const upcoming = useQuery(listCurrentPricesOptions({ query: { upcoming: true } }));
  const [model, setModel] = useState<string | null>(null);
  const [typed, setTyped] = useState('');
  const modelColumn: Column<Rule> = {
    label: 'Model',
    render: (row) => (
      <Anchor component="button" ta="left" onClick={() => setModel(row.modelId)}>
        {row.modelId}
      </Anchor>
    ),
  };
  return (
    <Stack>
      <Group justify="space-between">
        <ScreenTitle>Pricing</ScreenTitle>
        {operator.isAdmin && (
          <Group>
            <NewRule onCreated={setModel} />
            <ImportRules />
          </Group>
        )}
      </Group>
      <Text size="sm" c="dimmed">
        Credits per 1,000 tokens of each kind. A kind a rule leaves unset costs the price named after it. At a service
        tier every price of the rule is that percent of itself; units cost the credits given for each.
      </Text>
      <Section title="Prices in effect">
        <DataTable
          label="Prices in effect"
          rows={current.data?.items ?? []}
          rowKey={(row) => row.id}
          columns={[modelColumn, ...ruleColumns]}
        />
      </Section>
      <Section title="Scheduled prices (not in effect yet)">
        {upcoming.data?.items.length === 0 ? (
          <Text c="dimmed" size="sm">
            No price is scheduled.
          </Text>
        ) : (
          <DataTable
            label="Scheduled prices"
            rows={upcoming.data?.items ?? []}
            rowKey={(row) => row.id}
            columns={[modelColumn, ...ruleColumns]}
          />
        )}
      </Section>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (typed.trim()) setModel(typed.trim());
        }}
      >
        <Group align="end">
          <TextInput
            label="Model id"
            description="Any model's rules, past and future"
            value={typed}
            onChange={(e) => setTyped(e.currentTarget.value)}
            w={320}
          />
          <Button type="submit" variant="light">
            Show history
          </Button>
        </Group>
      </form>
      {model && <History modelId={model} />}
      <Simulation current={current.data?.items ?? []} />
    </Stack>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Stack gap="xs">
      <Title order={2} size="h4">
        {title}
      </Title>
      {children}
    </Stack>
  );
}

function History({ modelId }: { modelId: string }) {
  const operator = useOperator();
  const history = useQuery(getPricingHistoryOptions({ path: { modelId } }));
  const latest = inForce(history.data?.items ?? []);
  return (
    <Section title={`History of ${modelId}`}>
      {operator.isAdmin && latest && (
        <Group>
          <NewRule onCreated={() => undefined} from={latest} />
        </Group>
      )}
      {history.data?.items.length === 0 ? (
        <Text c="dimmed" size="sm">
          No rule for this model: it costs the default price.
        </Text>
      ) : (
        <DataTable
          label={`History of ${modelId}`}
          rows={history.data?.items ?? []}
          rowKey={(row) => row.id}
          columns={[...ruleColumns, { label: 'By', render: (row) => row.createdBy }]}
        />
      )}
    </Section>
  );
}

const EMPTY_RULE = {
  modelId: '',
  ...(Object.fromEntries(TOKEN_KINDS.map((kind) => [kind, ''])) as Record<TokenKind, string>),
  longContextThreshold: '',
  longContextPrice: '',
  longContextOutput: '',
  providerCost: '',
  serviceTiers: '',
  unitPrices: '',
  effectiveFrom: '',
  ...NO_VOLUME,
};

/** The rule in force now among a model's history (else its newest): what "Change prices" starts from. */
function inForce(items: Rule[]): Rule | undefined {
  const now = Date.now();
  return (
    items.find(
      (rule) =>
        Date.parse(rule.effectiveFrom) <= now && (rule.effectiveTo === null || Date.parse(rule.effectiveTo) > now),
    ) ?? items[0]
  );
}

/** A rule as the form's text: every price it sets, its tiers and unit prices as `name=value` pairs. */
function formOf(rule: Rule): typeof EMPTY_RULE {
  const text = (value: string | number | null | undefined) => (value == null ? '' : String(value));
  return {
    ...EMPTY_RULE,
    modelId: rule.modelId,
    ...(Object.fromEntries(TOKEN_KINDS.map((kind) => [kind, text(rule[priceField(kind)])])) as Record<
      TokenKind,
      string
    >),
    longContextThreshold: text(rule.longContextThreshold),
    longContextPrice: text(rule.longContextPricePer1kTokens),
    longContextOutput: text(rule.longContextOutputPricePer1kTokens),
    providerCost: text(rule.providerCostPer1kTokens),
    serviceTiers: Object.entries(rule.serviceTiers ?? {})
      .map(([name, tier]) => `${name}=${tier.pricePercent}`)
      .join(' '),
    unitPrices: Object.entries(rule.unitPrices ?? {})
      .map(([name, price]) => `${name}=${price}`)
      .join(' '),
    ...volumeFormOf(rule.volume),
  };
}

/**
 * The form's text as the API's body: empty fields are left out (the rule's defaults apply). A tier or
 * unit field that is not `name=value` pairs is the form's own error (shown under it), sent nowhere.
 */
function ruleBody(form: typeof EMPTY_RULE): CreatePricingRuleData['body'] | { problem: string } {
  const optional = (value: string) => (value.trim() === '' ? undefined : value.trim());
  const threshold = optional(form.longContextThreshold);
  const tiers = serviceTiersOf(form.serviceTiers);
  if ('problem' in tiers) return tiers;
  const units = unitPricesOf(form.unitPrices);
  if ('problem' in units) return units;
  const volume = volumeOf(form);
  if ('problem' in volume) return volume;
  return {
    modelId: form.modelId.trim(),
    pricePer1kTokens: form.input.trim(),
    ...Object.fromEntries(
      TOKEN_KINDS.filter((kind) => kind !== 'input').map((kind) => [priceField(kind), optional(form[kind])]),
    ),
    longContextThreshold: threshold === undefined ? undefined : Number(threshold),
    longContextPricePer1kTokens: optional(form.longContextPrice),
    longContextOutputPricePer1kTokens: optional(form.longContextOutput),
    providerCostPer1kTokens: optional(form.providerCost),
    ...tiers,
    ...units,
    ...volume,
    effectiveFrom: optional(form.effectiveFrom),
  };
}

/**
 * The form of a new rule: blank, or (`from`) filled with a rule's prices, tiers and unit prices, so a
 * change of one price or one tier is a new rule from then on with the others as they were.
 */
function NewRule({ onCreated, from }: { onCreated: (modelId: string) => void; from?: Rule }) {
  const invalidate = useInvalidate();
  const start = from ? formOf(from) : EMPTY_RULE;
  const title = from ? `Change prices of ${from.modelId}` : 'New price rule';
  const [form, setForm] = useState(start);
  const create = useMutation({
    ...createPricingRuleMutation(),
    onSuccess: (rule) => {
      dialog.close();
      onCreated(rule.modelId);
      void invalidate(affected.pricing([rule.modelId]));
    },
  });
  // Each opening starts from `start`: a new rule never inherits the last one's typing (nor its error).
  const dialog = useCommandDialog(() => {
    setForm(start);
    create.reset();
  });
  const body = ruleBody(form);
  const field = (name: keyof typeof EMPTY_RULE, label: string, required = false) => (
    <TextInput
      key={name}
      label={label}
      value={form[name]}
      required={required}
      onChange={(e) => setForm({ ...form, [name]: e.currentTarget.value })}
    />
  );
  return (
    <>
      <Button variant={from ? 'light' : 'filled'} onClick={() => dialog.open(true)}>
        {from ? 'Change prices' : 'New price rule'}
      </Button>
      <ActionDialog
        title={title}
        dialog={dialog}
        size="lg"
        submitLabel="Create rule"
        pending={create.isPending}
        error={create.error}
        disabled={'problem' in body}
        onSubmit={() => {
          if (!('problem' in body)) create.mutate({ body, headers: dialog.headers });
        }}
      >
        <Text size="xs" c="dimmed">
          Credits per 1,000 tokens, at most 4 decimal places. Empty: the price named in the table.
        </Text>
        {field('modelId', 'Model', true)}
        {field('input', 'Price per 1k tokens', true)}
        <Group grow>{kindsOf('completion').map((kind) => field(kind, priceLabel(kind)))}</Group>
        <Group grow>
          {kindsOf('prompt')
            .slice(1)
            .map((kind) => field(kind, priceLabel(kind)))}
        </Group>
        <Group grow align="start">
          {field('longContextThreshold', 'Long context above (tokens)')}
          {field('longContextPrice', 'Long-context input per 1k')}
          {field('longContextOutput', 'Long-context output per 1k')}
        </Group>
        <DimensionFields
          tiers={{ value: form.serviceTiers, onChange: (value) => setForm({ ...form, serviceTiers: value }) }}
          units={{ value: form.unitPrices, onChange: (value) => setForm({ ...form, unitPrices: value }) }}
        />
        <VolumeFields value={form} onChange={(volume) => setForm({ ...form, ...volume })} />
        {field('providerCost', 'Provider cost per 1k tokens')}
        {field('effectiveFrom', 'Effective from (ISO-8601 UTC, empty: now)')}
      </ActionDialog>
    </>
  );
}

function ImportRules() {
  const invalidate = useInvalidate();
  const [text, setText] = useState('');
  const [parseError, setParseError] = useState<string | null>(null);
  const run = useMutation({
    ...importPricingMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate(affected.pricing(modelsOf(text)));
    },
  });
  const dialog = useCommandDialog(() => {
    run.reset();
    setParseError(null);
  });
  return (
    <>
      <Button variant="light" onClick={() => dialog.open(true)}>
        Import rules
      </Button>
      <ActionDialog
        title="Import price rules (all or none)"
        dialog={dialog}
        submitLabel="Import"
        pending={run.isPending}
        error={parseError ?? run.error}
        onSubmit={() => {
          try {
            const parsed: unknown = JSON.parse(text);
            setParseError(null);
            // The server validates the sheet (400 naming the bad rule); the console only parses JSON.
            const body = (Array.isArray(parsed) ? { rules: parsed } : parsed) as ImportPricingData['body'];
            run.mutate({ body, headers: dialog.headers });
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

/** The model ids of an imported sheet, for the histories to refresh. */
function modelsOf(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as { rules?: Array<{ modelId?: unknown }> } | Array<{ modelId?: unknown }>;
    const rules = Array.isArray(parsed) ? parsed : (parsed.rules ?? []);
    return rules.flatMap((rule) => (typeof rule.modelId === 'string' ? [rule.modelId] : []));
  } catch {
    return [];
  }
}

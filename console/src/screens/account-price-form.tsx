import { Button, Group, Text, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import type { CreateAccountPriceData } from '../api/generated';
import { createAccountPriceMutation } from '../api/generated/@tanstack/react-query.gen';
import { ActionDialog } from '../components/action-dialog';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';
import { DimensionFields, unitPricesOf } from './pricing-dimensions';

const EMPTY = {
  modelId: '',
  discountPercent: '',
  price: '',
  output: '',
  cacheRead: '',
  cacheWrite: '',
  reasoning: '',
  unitPrices: '',
  effectiveFrom: '',
  notes: '',
};
type Form = typeof EMPTY;

/**
 * The form's text as the API's body (empty fields left out): a discount, or per-kind prices and unit
 * prices that replace the rule's. The server refuses both at once (400); an empty start is now.
 */
function accountPriceBody(
  account: { userId: string } | { orgId: string },
  form: Form,
): CreateAccountPriceData['body'] | { problem: string } {
  const optional = (value: string) => (value.trim() === '' ? undefined : value.trim());
  const units = unitPricesOf(form.unitPrices);
  if ('problem' in units) return units;
  return {
    ...account,
    modelId: form.modelId.trim(),
    discountPercent: optional(form.discountPercent),
    pricePer1kTokens: optional(form.price),
    outputPricePer1kTokens: optional(form.output),
    cacheReadPricePer1kTokens: optional(form.cacheRead),
    cacheWritePricePer1kTokens: optional(form.cacheWrite),
    reasoningPricePer1kTokens: optional(form.reasoning),
    ...units,
    effectiveFrom: optional(form.effectiveFrom) ?? new Date().toISOString(),
    notes: optional(form.notes),
  };
}

/** **New account price** on an account's Pricing tab (admins): a discount or its own prices for a model. */
export function NewAccountPrice({ account }: { account: { userId: string } | { orgId: string } }) {
  const invalidate = useInvalidate();
  const [form, setForm] = useState(EMPTY);
  const create = useMutation({
    ...createAccountPriceMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate(affected.accountPrices(account));
    },
  });
  const dialog = useCommandDialog(() => {
    setForm(EMPTY);
    create.reset();
  });
  const body = accountPriceBody(account, form);
  const field = (name: keyof Form, label: string, required = false) => (
    <TextInput
      label={label}
      value={form[name]}
      required={required}
      onChange={(e) => setForm({ ...form, [name]: e.currentTarget.value })}
    />
  );
  return (
    <>
      <Button variant="light" onClick={() => dialog.open(true)}>
        New account price
      </Button>
      <ActionDialog
        title="New account price"
        dialog={dialog}
        size="lg"
        submitLabel="Create price"
        pending={create.isPending}
        error={create.error}
        disabled={'problem' in body}
        onSubmit={() => {
          if (!('problem' in body)) create.mutate({ body, headers: dialog.headers });
        }}
      >
        <Text size="xs" c="dimmed">
          Either a discount on every price of the rule (tokens and units), or prices of its own: the kinds and units
          given replace the rule&apos;s, the rest stay the rule&apos;s.
        </Text>
        {field('modelId', 'Model or pattern (anthropic.*)', true)}
        {field('discountPercent', 'Discount % (0–100, 2 places)')}
        <Group grow>
          {field('price', 'Input price per 1k')}
          {field('output', 'Output price per 1k')}
          {field('reasoning', 'Reasoning price per 1k')}
        </Group>
        <Group grow>
          {field('cacheRead', 'Cache-read price per 1k')}
          {field('cacheWrite', 'Cache-write price per 1k')}
        </Group>
        <DimensionFields
          units={{ value: form.unitPrices, onChange: (value) => setForm({ ...form, unitPrices: value }) }}
        />
        {field('effectiveFrom', 'Effective from (ISO-8601 UTC, empty: now)')}
        {field('notes', 'Notes')}
      </ActionDialog>
    </>
  );
}

import { Button, Group, Text, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import type { CreateAccountPriceData } from '../api/generated';
import { createAccountPriceMutation } from '../api/generated/@tanstack/react-query.gen';
import { ActionDialog } from '../components/action-dialog';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';
import { kindsOf, priceField, priceLabel, TOKEN_KINDS, type TokenKind } from '../lib/token-kinds';
import { DimensionFields, unitPricesOf } from './pricing-dimensions';

const EMPTY = {
  modelId: '',
  discountPercent: '',
  ...(Object.fromEntries(TOKEN_KINDS.map((kind) => [kind, ''])) as Record<TokenKind, string>),
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
    ...Object.fromEntries(TOKEN_KINDS.map((kind) => [priceField(kind), optional(form[kind])])),
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
      key={name}
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
          {(['input', ...kindsOf('completion')] as const).map((kind) => field(kind, priceLabel(kind)))}
        </Group>
        <Group grow>
          {kindsOf('prompt')
            .slice(1)
            .map((kind) => field(kind, priceLabel(kind)))}
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

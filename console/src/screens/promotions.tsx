import { Badge, Button, Group, NumberInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import type { PromotionResponseDto } from '../api/generated';
import {
  createPromotionMutation,
  listPromotionRedemptionsInfiniteOptions,
  listPromotionsInfiniteOptions,
  updatePromotionMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

const ACCOUNTS = [
  { value: 'users', label: 'Users' },
  { value: 'orgs', label: 'Organisations' },
  { value: 'any', label: 'Users and organisations' },
];

/** Promotion codes: their limits and use; admins create them and switch them off; staff read redemptions. */
export function PromotionsScreen() {
  const operator = useOperator();
  const promotions = useInfiniteQuery({ ...listPromotionsInfiniteOptions(), ...cursorPaging });
  const rows = pagesOf(promotions.data);
  const [shown, setShown] = useState<string | null>(null);
  const invalidate = useInvalidate();
  const toggle = useCommandDialog<PromotionResponseDto>(() => update.reset());
  const update = useMutation({
    ...updatePromotionMutation(),
    onSuccess: () => {
      toggle.close();
      void invalidate(affected.promotions());
    },
  });
  const promotion = toggle.subject;
  return (
    <Stack>
      <Group justify="space-between">
        <ScreenTitle>Promotions</ScreenTitle>
        {operator.isAdmin && <NewPromotion />}
      </Group>
      <DataTable
        label="Promotion codes"
        rows={rows}
        rowKey={(row) => row.code}
        columns={[
          { label: 'Code', render: (row) => row.code },
          { label: 'State', render: (row) => <CodeState promotion={row} /> },
          { label: 'Credits', render: (row) => credits(row.credits), numeric: true },
          { label: 'Lasts', render: (row) => `${row.expiryDays} days` },
          {
            label: 'Redeemed',
            render: (row) =>
              `${credits(row.redemptions)} of ${row.maxRedemptions === null ? '∞' : credits(row.maxRedemptions)}`,
            numeric: true,
          },
          { label: 'Per account', render: (row) => credits(row.perAccount), numeric: true },
          { label: 'For', render: (row) => forWhom(row) },
          { label: 'Window (UTC)', render: (row) => windowOf(row) },
          {
            label: 'Actions',
            render: (row: PromotionResponseDto) => (
              <Group gap="xs" wrap="nowrap">
                <Button
                  size="xs"
                  variant="default"
                  onClick={() => setShown(row.code)}
                  aria-label={`Redemptions of ${row.code}`}
                >
                  Redemptions
                </Button>
                {operator.isAdmin && (
                  <Button
                    size="xs"
                    variant="light"
                    color={row.active ? 'red' : undefined}
                    onClick={() => toggle.open(row)}
                    aria-label={`${row.active ? 'Disable' : 'Enable'} ${row.code}`}
                  >
                    {row.active ? 'Disable' : 'Enable'}
                  </Button>
                )}
              </Group>
            ),
          },
        ]}
      />
      <LoadMore {...promotions} empty={promotions.isSuccess && rows.length === 0} />
      {shown && <Redemptions code={shown} />}
      <ActionDialog
        title={promotion ? `${promotion.active ? 'Disable' : 'Enable'} the code ${promotion.code}` : ''}
        dialog={toggle}
        submitLabel={promotion?.active ? 'Disable code' : 'Enable code'}
        color={promotion?.active ? 'red' : undefined}
        pending={update.isPending}
        error={update.error}
        onSubmit={() =>
          promotion &&
          update.mutate({
            path: { code: promotion.code },
            body: { active: !promotion.active },
            headers: toggle.headers,
          })
        }
      >
        <Text>
          {promotion?.active
            ? 'Whoever tries it gets the answer for a code that does not exist; what was redeemed stays.'
            : 'It can be redeemed again, within its window and limits.'}
        </Text>
      </ActionDialog>
    </Stack>
  );
}

/** When it may be redeemed: from its start (or creation) to its end (or for good). */
function windowOf(p: PromotionResponseDto): string {
  if (p.startsAt === null && p.endsAt === null) return 'always';
  return `${p.startsAt === null ? 'now' : utc(p.startsAt)} – ${p.endsAt === null ? 'no end' : utc(p.endsAt)}`;
}

function forWhom(p: PromotionResponseDto): string {
  const who = ACCOUNTS.find((a) => a.value === p.accounts)?.label ?? p.accounts;
  return p.newAccountsWithinDays === null ? who : `${who} made within ${p.newAccountsWithinDays} days`;
}

function CodeState({ promotion }: { promotion: PromotionResponseDto }) {
  const now = Date.now();
  const state = !promotion.active
    ? ['disabled', 'gray']
    : promotion.startsAt && Date.parse(promotion.startsAt) > now
      ? ['not started', 'blue']
      : promotion.endsAt && Date.parse(promotion.endsAt) <= now
        ? ['ended', 'gray']
        : promotion.maxRedemptions !== null && promotion.redemptions >= promotion.maxRedemptions
          ? ['used up', 'orange']
          : ['active', 'green'];
  return (
    <Badge color={state[1]} variant="light" miw="max-content">
      {state[0]}
    </Badge>
  );
}

function Redemptions({ code }: { code: string }) {
  const redemptions = useInfiniteQuery({
    ...listPromotionRedemptionsInfiniteOptions({ path: { code } }),
    ...cursorPaging,
  });
  const rows = pagesOf(redemptions.data);
  return (
    <Stack gap="xs">
      <Text fw={600}>Redemptions of {code}</Text>
      <DataTable
        label={`Redemptions of ${code}`}
        rows={rows}
        rowKey={(row) => row.redemptionId}
        columns={[
          { label: 'Redeemed (UTC)', render: (row) => utc(row.createdAt) },
          { label: 'Account', render: (row) => (row.orgId !== null ? `org ${row.orgId}` : row.userId) },
          { label: 'By', render: (row) => row.redeemedBy },
          { label: 'Credits', render: (row) => credits(row.credits), numeric: true },
          { label: 'Expires (UTC)', render: (row) => utc(row.expiresAt) },
        ]}
      />
      <LoadMore {...redemptions} empty={redemptions.isSuccess && rows.length === 0} />
    </Stack>
  );
}

const EMPTY_PROMOTION = {
  code: '',
  credits: '' as string | number,
  expiryDays: 30 as string | number,
  maxRedemptions: '' as string | number,
  perAccount: 1 as string | number,
  accounts: 'users',
  newAccountsWithinDays: '' as string | number,
  startsAt: '',
  endsAt: '',
};

function NewPromotion() {
  const invalidate = useInvalidate();
  const [form, setForm] = useState(EMPTY_PROMOTION);
  const create = useMutation({
    ...createPromotionMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate(affected.promotions());
    },
  });
  const dialog = useCommandDialog(() => {
    setForm(EMPTY_PROMOTION);
    create.reset();
  });
  const optional = (v: string | number) => (v === '' ? undefined : Number(v));
  return (
    <>
      <Button onClick={() => dialog.open(true)}>New promotion</Button>
      <ActionDialog
        title="New promotion code"
        dialog={dialog}
        submitLabel="Create code"
        pending={create.isPending}
        error={create.error}
        onSubmit={() =>
          create.mutate({
            body: {
              code: form.code.trim(),
              credits: Number(form.credits),
              expiryDays: Number(form.expiryDays),
              perAccount: Number(form.perAccount),
              accounts: form.accounts as PromotionResponseDto['accounts'],
              maxRedemptions: optional(form.maxRedemptions),
              newAccountsWithinDays: optional(form.newAccountsWithinDays),
              startsAt: form.startsAt.trim() || undefined,
              endsAt: form.endsAt.trim() || undefined,
            },
            headers: dialog.headers,
          })
        }
      >
        <TextInput
          label="Code"
          description="4–40 of A-Z 0-9 -, without case"
          value={form.code}
          onChange={(e) => setForm({ ...form, code: e.currentTarget.value })}
          required
        />
        <Group grow>
          <NumberInput
            label="Credits"
            value={form.credits}
            onChange={(v) => setForm({ ...form, credits: v })}
            min={1}
            allowDecimal={false}
            required
          />
          <NumberInput
            label="Lasts (days)"
            value={form.expiryDays}
            onChange={(v) => setForm({ ...form, expiryDays: v })}
            min={1}
            max={3650}
            allowDecimal={false}
            required
          />
        </Group>
        <Group grow>
          <NumberInput
            label="Redemptions in all"
            description="Empty: no limit"
            value={form.maxRedemptions}
            onChange={(v) => setForm({ ...form, maxRedemptions: v })}
            min={1}
            allowDecimal={false}
          />
          <NumberInput
            label="Per account"
            value={form.perAccount}
            onChange={(v) => setForm({ ...form, perAccount: v })}
            min={1}
            allowDecimal={false}
          />
        </Group>
        <Select
          label="Who may redeem it"
          data={ACCOUNTS}
          value={form.accounts}
          onChange={(v) => setForm({ ...form, accounts: v ?? 'users' })}
          allowDeselect={false}
        />
        <NumberInput
          label="Only accounts made within (days)"
          description="Empty: any account"
          value={form.newAccountsWithinDays}
          onChange={(v) => setForm({ ...form, newAccountsWithinDays: v })}
          min={1}
          max={3650}
          allowDecimal={false}
        />
        <Group grow>
          <TextInput
            label="Starts (UTC)"
            placeholder="2026-12-01T00:00:00Z"
            value={form.startsAt}
            onChange={(e) => setForm({ ...form, startsAt: e.currentTarget.value })}
          />
          <TextInput
            label="Ends (UTC)"
            placeholder="2027-01-01T00:00:00Z"
            value={form.endsAt}
            onChange={(e) => setForm({ ...form, endsAt: e.currentTarget.value })}
          />
        </Group>
      </ActionDialog>
    </>
  );
}

import { Badge, Button, Group, NumberInput, Stack, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import type { PackageResponseDto } from '../api/generated';
import {
  createPackageMutation,
  listPackagesInfiniteOptions,
  updatePackageMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { ScreenTitle } from '../layout';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

/** The price book: every package, on sale or not; admins put packages on sale and take them off. */
export function PackagesScreen() {
  const operator = useOperator();
  const packages = useInfiniteQuery({
    ...listPackagesInfiniteOptions({ query: { includeInactive: true } }),
    ...cursorPaging,
  });
  const rows = pagesOf(packages.data);
  const invalidate = useInvalidate();
  const toggle = useCommandDialog<PackageResponseDto>(() => update.reset());
  const update = useMutation({
    ...updatePackageMutation(),
    onSuccess: () => {
      toggle.close();
      void invalidate(affected.packages());
    },
  });
  const pkg = toggle.subject;
  return (
    <Stack>
      <Group justify="space-between">
        <ScreenTitle>Packages</ScreenTitle>
        {operator.isAdmin && <NewPackage />}
      </Group>
      <Text c="dimmed" size="sm">
        A package’s credits and price never change: to change them, put a new package on sale and take this one off.
      </Text>
      <DataTable
        label="Packages"
        rows={rows}
        rowKey={(row) => row.packageId}
        columns={[
          { label: 'Package', render: (row) => `${row.name} (${row.packageId})` },
          { label: 'State', render: (row) => <SaleState active={row.active} /> },
          { label: 'Credits', render: (row) => credits(row.credits), numeric: true },
          { label: 'Bonus', render: (row) => credits(row.bonusCredits), numeric: true },
          { label: 'Price', render: (row) => `${row.price.amount} ${row.price.currency.toUpperCase()}`, numeric: true },
          { label: 'Expires after', render: (row) => `${row.expiryDays} days` },
          { label: 'Created (UTC)', render: (row) => utc(row.createdAt) },
          ...(operator.isAdmin
            ? [
                {
                  label: 'Actions',
                  render: (row: PackageResponseDto) => (
                    <Button
                      size="xs"
                      variant="light"
                      color={row.active ? 'red' : undefined}
                      onClick={() => toggle.open(row)}
                      aria-label={`${row.active ? 'Take off sale' : 'Put on sale'} ${row.packageId}`}
                    >
                      {row.active ? 'Take off sale' : 'Put on sale'}
                    </Button>
                  ),
                },
              ]
            : []),
        ]}
      />
      <LoadMore {...packages} empty={packages.isSuccess && rows.length === 0} />
      <ActionDialog
        title={pkg ? `${pkg.active ? 'Take' : 'Put'} the package ${pkg.name} ${pkg.active ? 'off' : 'on'} sale` : ''}
        dialog={toggle}
        submitLabel={pkg?.active ? 'Take off sale' : 'Put on sale'}
        color={pkg?.active ? 'red' : undefined}
        pending={update.isPending}
        error={update.error}
        onSubmit={() =>
          pkg &&
          update.mutate({ path: { packageId: pkg.packageId }, body: { active: !pkg.active }, headers: toggle.headers })
        }
      >
        <Text>
          {pkg?.active
            ? 'Nobody can buy it any more; purchases made from it keep what they were sold.'
            : 'It is listed and can be bought again.'}
        </Text>
      </ActionDialog>
    </Stack>
  );
}

function SaleState({ active }: { active: boolean }) {
  return (
    <Badge color={active ? 'green' : 'gray'} variant="light" miw="max-content">
      {active ? 'on sale' : 'off sale'}
    </Badge>
  );
}

const EMPTY_PACKAGE = {
  packageId: '',
  name: '',
  credits: '' as string | number,
  bonusCredits: 0 as string | number,
  amount: '',
  currency: 'usd',
  expiryDays: 365 as string | number,
};

function NewPackage() {
  const invalidate = useInvalidate();
  const [form, setForm] = useState(EMPTY_PACKAGE);
  const create = useMutation({
    ...createPackageMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate(affected.packages());
    },
  });
  const dialog = useCommandDialog(() => {
    setForm(EMPTY_PACKAGE);
    create.reset();
  });
  return (
    <>
      <Button onClick={() => dialog.open(true)}>New package</Button>
      <ActionDialog
        title="New package"
        dialog={dialog}
        submitLabel="Put on sale"
        pending={create.isPending}
        error={create.error}
        onSubmit={() =>
          create.mutate({
            body: {
              packageId: form.packageId,
              name: form.name,
              credits: Number(form.credits),
              bonusCredits: Number(form.bonusCredits),
              // The amount stays the decimal string typed: money never passes through a float.
              price: { amount: form.amount.trim(), currency: form.currency.trim() },
              expiryDays: Number(form.expiryDays),
            },
            headers: dialog.headers,
          })
        }
      >
        <TextInput
          label="Package id"
          description="3–50 of a-z 0-9 - _"
          value={form.packageId}
          onChange={(e) => setForm({ ...form, packageId: e.currentTarget.value })}
          required
        />
        <TextInput
          label="Name"
          value={form.name}
          onChange={(e) => setForm({ ...form, name: e.currentTarget.value })}
          required
        />
        <NumberInput
          label="Credits"
          value={form.credits}
          onChange={(v) => setForm({ ...form, credits: v })}
          min={1}
          allowDecimal={false}
          required
        />
        <NumberInput
          label="Bonus credits"
          value={form.bonusCredits}
          onChange={(v) => setForm({ ...form, bonusCredits: v })}
          min={0}
          allowDecimal={false}
        />
        <Group grow>
          <TextInput
            label="Price"
            description="At most 2 decimal places"
            placeholder="10.00"
            value={form.amount}
            onChange={(e) => setForm({ ...form, amount: e.currentTarget.value })}
            required
          />
          <TextInput
            label="Currency"
            description="ISO 4217, lowercase"
            value={form.currency}
            onChange={(e) => setForm({ ...form, currency: e.currentTarget.value })}
            required
          />
        </Group>
        <NumberInput
          label="Expires after (days)"
          value={form.expiryDays}
          onChange={(v) => setForm({ ...form, expiryDays: v })}
          min={1}
          max={3650}
          allowDecimal={false}
        />
      </ActionDialog>
    </>
  );
}

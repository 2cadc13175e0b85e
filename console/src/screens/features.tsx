import { Alert, Badge, Box, Button, Group, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import type { FeatureResponseDto } from '../api/generated';
import {
  createFeatureMutation,
  listFeaturesOptions,
  listPlansOptions,
  updateFeatureMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { ActionDialog } from '../components/action-dialog';
import { DataTable } from '../components/data-table';
import { ScreenTitle } from '../layout';
import { errorMessage, utc } from '../lib/format';
import { type FeatureType, grantText, planFeatures } from '../lib/grants';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';
import { PlanGrantDialog, usePlanGrantDialog } from './feature-grants';

type Feature = FeatureResponseDto;

/**
 * Features (docs/features.md): what exists, and what each plan grants of it. An account's overrides
 * and its use this period are on its own page (the Features tab of a user or an organisation).
 */
export function FeaturesScreen() {
  const operator = useOperator();
  const features = useQuery(listFeaturesOptions({ query: { limit: 500 } }));
  const plans = useQuery(listPlansOptions({ query: { limit: 500 } }));
  const rename = useCommandDialog<Feature>((feature) => {
    setName(feature.name);
    update.reset();
  });
  const [name, setName] = useState('');
  const invalidate = useInvalidate();
  const update = useMutation({
    ...updateFeatureMutation(),
    onSuccess: () => {
      rename.close();
      void invalidate(affected.features());
    },
  });
  const grant = usePlanGrantDialog();
  const items = features.data?.items ?? [];
  const planList = plans.data?.items ?? [];
  const feature = rename.subject;
  return (
    <Stack>
      <Group justify="space-between">
        <ScreenTitle>Features</ScreenTitle>
        {operator.isAdmin && <NewFeature />}
      </Group>
      {features.isError && (
        <Alert color="red" role="alert">
          {errorMessage(features.error)}
        </Alert>
      )}
      <DataTable
        label="Features"
        rows={items}
        rowKey={(row) => row.featureKey}
        columns={[
          { label: 'Feature', render: (row) => row.featureKey },
          { label: 'Name', render: (row) => row.name },
          { label: 'Type', render: (row) => <Badge variant="light">{row.type}</Badge> },
          { label: 'Created (UTC)', render: (row) => utc(row.createdAt) },
          ...(operator.isAdmin
            ? [
                {
                  label: 'Actions',
                  render: (row: Feature) => (
                    <Button
                      size="xs"
                      variant="light"
                      aria-label={`Rename ${row.featureKey}`}
                      onClick={() => rename.open(row)}
                    >
                      Rename
                    </Button>
                  ),
                },
              ]
            : []),
        ]}
      />
      {features.isSuccess && items.length === 0 && (
        <Text c="dimmed" ta="center" py="md">
          No features yet.
        </Text>
      )}
      <Title order={2} size="h4">
        Grants by plan
      </Title>
      <Text size="sm" c="dimmed">
        A plan&apos;s grants apply to its subscribers from the moment they are saved; an account&apos;s override (on its
        page) wins over its plan&apos;s.
      </Text>
      {items.length > 0 && planList.length > 0 ? (
        // A column per plan: wide with many plans, so it scrolls on its own, not the page.
        <Box style={{ overflowX: 'auto' }}>
          <DataTable
            label="Grants by plan"
            rows={items}
            rowKey={(row) => row.featureKey}
            columns={[
              { label: 'Feature', render: (row) => row.featureKey },
              ...planList.map((plan) => ({
                label: `${plan.name} (${plan.id})${plan.isActive ? '' : ', inactive'}`,
                render: (row: Feature) => {
                  const current = planFeatures(plan)[row.featureKey];
                  const text = grantText(current);
                  return operator.isAdmin ? (
                    <Button
                      size="compact-sm"
                      variant="subtle"
                      color={current === undefined ? 'gray' : undefined}
                      aria-label={`Grant of ${row.featureKey} on plan ${plan.id}: ${text}`}
                      onClick={() => grant.dialog.open({ feature: row, plan })}
                    >
                      {text}
                    </Button>
                  ) : (
                    text
                  );
                },
              })),
            ]}
          />
        </Box>
      ) : (
        <Text c="dimmed" size="sm">
          {planList.length === 0 ? 'No plans yet.' : 'No features to grant yet.'}
        </Text>
      )}
      <ActionDialog
        title={feature ? `Rename ${feature.featureKey}` : ''}
        dialog={rename}
        submitLabel="Save name"
        pending={update.isPending}
        error={update.error}
        onSubmit={() =>
          feature &&
          update.mutate({ path: { featureKey: feature.featureKey }, body: { name }, headers: rename.headers })
        }
      >
        <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
      </ActionDialog>
      <PlanGrantDialog state={grant} />
    </Stack>
  );
}

const EMPTY_FEATURE = { featureKey: '', name: '', type: 'boolean' as FeatureType };

function NewFeature() {
  const invalidate = useInvalidate();
  const [form, setForm] = useState(EMPTY_FEATURE);
  const create = useMutation({
    ...createFeatureMutation(),
    onSuccess: () => {
      dialog.close();
      void invalidate(affected.features());
    },
  });
  const dialog = useCommandDialog(() => {
    setForm(EMPTY_FEATURE);
    create.reset();
  });
  return (
    <>
      <Button onClick={() => dialog.open(true)}>New feature</Button>
      <ActionDialog
        title="New feature"
        dialog={dialog}
        submitLabel="Create feature"
        pending={create.isPending}
        error={create.error}
        onSubmit={() => create.mutate({ body: form, headers: dialog.headers })}
      >
        <TextInput
          label="Feature key"
          description="What checks name: a-z, 0-9, _ . - (up to 64)"
          value={form.featureKey}
          onChange={(e) => setForm({ ...form, featureKey: e.currentTarget.value })}
          required
        />
        <TextInput
          label="Name"
          value={form.name}
          onChange={(e) => setForm({ ...form, name: e.currentTarget.value })}
          required
        />
        <Select
          label="Type"
          description="boolean: on or off · metered: a limit of uses per period · config: a value (JSON)"
          data={['boolean', 'metered', 'config']}
          value={form.type}
          onChange={(v) => setForm({ ...form, type: (v ?? 'boolean') as FeatureType })}
          allowDeselect={false}
        />
      </ActionDialog>
    </>
  );
}

import { Card, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';

import {
  getCreditSummaryOptions,
  getSystemUsageStatsOptions,
  listAllActiveSessionsOptions,
  listReviewQueueOptions,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { DailyChart } from '../components/daily-chart';
import { DataTable } from '../components/data-table';
import { ScreenTitle } from '../layout';
import { credits, utcDaysAgo } from '../lib/format';

const DAYS = 30;

export function OverviewScreen() {
  const operator = useOperator();
  if (!operator.isAdmin) {
    return (
      <>
        <ScreenTitle>Overview</ScreenTitle>
        <Text>
          Signed in as a supervisor: find a user under Users to see their balance, usage and plan, or grant credits.
        </Text>
      </>
    );
  }
  return <AdminOverview />;
}

function AdminOverview() {
  const days = Array.from({ length: DAYS }, (_, i) => utcDaysAgo(DAYS - 1 - i));
  const stats = useQuery(
    getSystemUsageStatsOptions({ query: { startDate: days[0], endDate: days[DAYS - 1], topUsers: 10 } }),
  );
  // The first page is enough for the figure: "50+" says more wait on the review screen.
  const review = useQuery(listReviewQueueOptions({ query: { status: 'open' } }));
  const sessions = useQuery(listAllActiveSessionsOptions());
  const summary = useQuery(getCreditSummaryOptions());
  const data = stats.data;
  const entries = (map: Record<string, number> | undefined) =>
    Object.entries(map ?? {})
      .map(([key, value]) => ({ key, value }))
      .sort((a, b) => b.value - a.value);
  const margins = Object.entries(data?.marginByModel ?? {});

  return (
    <Stack>
      <ScreenTitle>Overview</ScreenTitle>
      <SimpleGrid cols={{ base: 2, md: 4 }}>
        <Figure label={`Credits used, last ${DAYS} UTC days`} value={credits(data?.totalCredits)} />
        <Figure label="Active users" value={credits(data?.userCount)} />
        <Figure
          label="Open review items"
          value={review.data ? `${credits(review.data.items.length)}${review.data.nextCursor ? '+' : ''}` : '—'}
        />
        <Figure label="Active sessions" value={credits(sessions.data?.items.length)} />
        <Figure label="Available (liability)" value={summary.data ? credits(summary.data.available) : '—'} />
        <Figure label="Held" value={summary.data ? credits(summary.data.held) : '—'} />
        <Figure label="Debt" value={summary.data ? credits(summary.data.debt) : '—'} />
        <Figure label="Expiring within 7 days" value={summary.data ? credits(summary.data.expiringWithin7Days) : '—'} />
      </SimpleGrid>
      {data && (
        <Card withBorder>
          <Title order={2} size="h4" mb="xs">
            Credits per UTC day
          </Title>
          <DailyChart
            title="Credits per UTC day"
            days={days}
            series={[{ label: 'Credits', color: '#228be6', values: days.map((day) => data.byDay[day] ?? 0) }]}
          />
        </Card>
      )}
      {summary.data && (
        <Card withBorder>
          <Title order={2} size="h4" mb="xs">
            Credits moved per UTC day (liability summary)
          </Title>
          <DailyChart
            title="Credits granted, spent, expired and voided per UTC day"
            lines
            days={summary.data.byDay.map((d) => d.date)}
            series={[
              { label: 'Granted', color: '#2f9e44', values: summary.data.byDay.map((d) => d.granted) },
              { label: 'Spent', color: '#228be6', values: summary.data.byDay.map((d) => d.spent) },
              { label: 'Expired', color: '#868e96', values: summary.data.byDay.map((d) => d.expired) },
              { label: 'Voided', color: '#e03131', values: summary.data.byDay.map((d) => d.voided) },
            ]}
          />
        </Card>
      )}
      <SimpleGrid cols={{ base: 1, md: 3 }}>
        <Breakdown title="By model" rows={entries(data?.byModel)} />
        <Breakdown title="By service" rows={entries(data?.byService)} />
        <Breakdown title="Top users" rows={entries(data?.byUser)} />
      </SimpleGrid>
      <Card withBorder>
        <Title order={2} size="h4">
          Margins by model
        </Title>
        <DataTable
          label="Margins by model"
          rows={margins}
          rowKey={([model]) => model}
          columns={[
            { label: 'Model', render: ([model]) => model },
            { label: 'Credits', render: ([, m]) => credits(m.credits), numeric: true },
            { label: 'Provider cost', render: ([, m]) => m.providerCost ?? '—', numeric: true },
          ]}
        />
      </Card>
    </Stack>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700}>
        {value}
      </Text>
    </Card>
  );
}

function Breakdown({ title, rows }: { title: string; rows: Array<{ key: string; value: number }> }) {
  return (
    <Card withBorder>
      <Title order={2} size="h4">
        {title}
      </Title>
      <DataTable
        label={title}
        rows={rows.slice(0, 10)}
        rowKey={(row) => row.key}
        columns={[
          { label: 'Name', render: (row) => row.key },
          { label: 'Credits', render: (row) => credits(row.value), numeric: true },
        ]}
      />
    </Card>
  );
}

import { Button, Code, Group, Select, Stack, Text } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import {
  exportUsageRecordsCsv,
  type LedgerEntryDto,
  type ProviderUsageDto,
  type UsageRecordResponseDto,
  type UsageRecordViewDto,
} from '../api/generated';
import {
  getUserUsageStatsOptions,
  listLedgerInfiniteOptions,
  listUsageRecordsInfiniteOptions,
} from '../api/generated/@tanstack/react-query.gen';
import { useOperator } from '../auth';
import { DailyChart } from '../components/daily-chart';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { credits, errorMessage, utc, utcDaysAgo } from '../lib/format';
import { KINDS, TOKEN_KINDS, tokenField } from '../lib/token-kinds';
import { CorrectDialog, RecordCorrections, useCorrectDialog } from './record-corrections';

type Kind = LedgerEntryDto['kind'];
const ENTRY_KINDS: Kind[] = ['grant', 'debit', 'hold', 'release', 'expire', 'void', 'rollover', 'repay', 'overdraft'];

export function UserLedger({ userId }: { userId: string }) {
  const [kind, setKind] = useState<Kind | null>(null);
  const query = { userId, kind: kind ?? undefined };
  const ledger = useInfiniteQuery({ ...listLedgerInfiniteOptions({ query }), ...cursorPaging });
  const rows = pagesOf(ledger.data);
  return (
    <Stack>
      <Select
        label="Kind"
        placeholder="Every kind"
        data={ENTRY_KINDS}
        value={kind}
        onChange={(value) => setKind(value as Kind | null)}
        clearable
        w={200}
      />
      <DataTable<LedgerEntryDto>
        label="Ledger"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.createdAt) },
          { label: 'Kind', render: (row) => row.kind },
          { label: 'Amount', render: (row) => credits(row.amount), numeric: true },
          { label: 'Balance after', render: (row) => credits(row.balanceAfter), numeric: true },
          { label: 'Allocation', render: (row) => row.allocationId ?? '—' },
          { label: 'By', render: (row) => row.createdBy },
        ]}
      />
      <LoadMore {...ledger} empty={ledger.isSuccess && rows.length === 0} />
    </Stack>
  );
}

export function UserUsage({ userId }: { userId: string }) {
  const startDate = utcDaysAgo(29);
  const stats = useQuery(getUserUsageStatsOptions({ path: { userId }, query: { startDate } }));
  const records = useInfiniteQuery({ ...listUsageRecordsInfiniteOptions({ query: { userId } }), ...cursorPaging });
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const days = Array.from({ length: 30 }, (_, i) => utcDaysAgo(29 - i));
  const rows = pagesOf(records.data);
  const operator = useOperator();
  const correcting = useCorrectDialog(userId);
  // The records whose provider usage or corrections are shown (expanded under their row).
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  const download = async () => {
    setDownloadError(null);
    const { data, error } = await exportUsageRecordsCsv({ query: { userId }, parseAs: 'text' });
    if (error !== undefined || typeof data !== 'string') return setDownloadError(errorMessage(error));
    const url = URL.createObjectURL(new Blob([data], { type: 'text/csv' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `usage-${userId}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <Stack>
      {stats.data && (
        <DailyChart
          title="Credits per UTC day, last 30 days"
          days={days}
          series={[{ label: 'Credits', color: '#228be6', values: days.map((day) => stats.data.byDay[day] ?? 0) }]}
        />
      )}
      <Group>
        <Text size="sm">
          Last 30 UTC days: {credits(stats.data?.totalCredits)} credits in {credits(stats.data?.totalRecords)} records
        </Text>
        <Button variant="light" size="xs" onClick={() => void download()}>
          Download CSV
        </Button>
        {downloadError && <Text c="red">{downloadError}</Text>}
      </Group>
      <DataTable<UsageRecordViewDto>
        label="Usage records"
        rows={rows}
        rowKey={(row) => row.id}
        columns={[
          { label: 'At (UTC)', render: (row) => utc(row.timestamp) },
          { label: 'Service', render: (row) => <Service record={row} /> },
          { label: 'Operation', render: (row) => row.operation },
          { label: 'Model', render: (row) => row.modelId ?? '—' },
          { label: 'Tokens', render: (row) => <TokenCounts record={row} /> },
          { label: 'Tier · units', render: (row) => dimensionsText(row) },
          { label: 'Credits', render: (row) => credits(row.credits), numeric: true },
          { label: 'Net', render: (row) => credits(row.netCredits), numeric: true },
          { label: 'Source', render: (row) => sourceText(row) },
          { label: 'Billing', render: (row) => row.billingStatus },
          {
            label: 'Details',
            render: (row) => (
              <Group gap={4}>
                {(row.providerUsage || row.corrections.length > 0) && (
                  <Button
                    size="compact-xs"
                    variant="subtle"
                    aria-expanded={open.has(row.id)}
                    onClick={() => toggle(row.id)}
                  >
                    {row.corrections.length > 0 ? `Corrections (${row.corrections.length})` : 'Provider usage'}
                  </Button>
                )}
                {operator.isAdmin && (
                  <Button size="compact-xs" variant="light" onClick={() => correcting.dialog.open(row)}>
                    Correct
                  </Button>
                )}
              </Group>
            ),
          },
        ]}
        detail={(row) =>
          open.has(row.id) && (
            <Stack gap="xs">
              {row.corrections.length > 0 && <RecordCorrections record={row} />}
              {row.providerUsage && <ProviderUsage usage={row.providerUsage} />}
            </Stack>
          )
        }
      />
      <LoadMore {...records} empty={records.isSuccess && rows.length === 0} />
      <CorrectDialog {...correcting} />
    </Stack>
  );
}

/**
 * A record's tokens as metered, each kind given (`in 1,500 · out 500 · cache read 200`), else its
 * total; a record charged in credits has none (—).
 */
export function tokenCounts(record: UsageRecordResponseDto): string[] {
  // Input and output as given; cache and reasoning only when there were some (0 is "none of that kind").
  const kinds = TOKEN_KINDS.filter((kind) => {
    const count = record[tokenField(kind)];
    return count != null && (count !== 0 || kind === 'input' || kind === 'output');
  }).map((kind) => `${KINDS[kind].short} ${credits(record[tokenField(kind)])}`);
  if (kinds.length > 0) return kinds;
  return record.tokens == null ? [] : [`${credits(record.tokens)} total`];
}

function TokenCounts({ record }: { record: UsageRecordResponseDto }) {
  const parts = tokenCounts(record);
  if (parts.length === 0) return <>—</>;
  return (
    <Text span size="xs">
      {parts.map((part, i) => (
        <Text span inherit key={part} style={{ whiteSpace: 'nowrap' }}>
          {i > 0 && ' · '}
          {part}
        </Text>
      ))}
    </Text>
  );
}

/**
 * The service tier a record was priced at and its units (`flex · web_search_call × 3`); — for the base
 * prices and no unit.
 */
export function dimensionsText(record: UsageRecordResponseDto): string {
  const units = Object.entries(record.units ?? {}).map(([name, count]) => `${name} × ${credits(count)}`);
  const parts = [...(record.serviceTier ? [record.serviceTier] : []), ...units];
  return parts.length === 0 ? '—' : parts.join(' · ');
}

/**
 * A gateway record's request, from its metadata (`/v1/messages · anthropic · client_abort · 200`,
 * status 0 when the service never learned it), and its request id; null for any other record.
 */
export function gatewayRequest(record: UsageRecordResponseDto): { summary: string; requestId: string } | null {
  const gateway = record.metadata?.gateway;
  if (gateway === null || typeof gateway !== 'object') return null;
  const { route, upstream, reason, status, requestId } = gateway as Record<string, unknown>;
  const summary = [route, upstream, reason, status === 0 ? 'no status' : status].map(String).join(' · ');
  return { summary, requestId: String(requestId) };
}

/** The record's service, and for a gateway record the request it billed (its id names it in the logs). */
function Service({ record }: { record: UsageRecordResponseDto }) {
  const request = gatewayRequest(record);
  if (request === null) return <>{record.service}</>;
  return (
    <Stack gap={0}>
      <Text span size="sm">
        {record.service}
      </Text>
      <Text span size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }} aria-label="Gateway request">
        {request.summary}
      </Text>
      <Text span size="xs" c="dimmed" ff="monospace">
        {request.requestId}
      </Text>
    </Stack>
  );
}

/** Where a record's counts came from (provider, reported, estimated) and how its stream ended, if told. */
export function sourceText(record: UsageRecordResponseDto): string {
  return record.termination ? `${record.usageSource} · ${record.termination}` : record.usageSource;
}

/** The provider's usage object as the service received it (the bill's own evidence), untouched. */
function ProviderUsage({ usage }: { usage: ProviderUsageDto }) {
  return (
    <Stack gap={4}>
      <Text size="xs" c="dimmed">
        Provider usage, {usage.format}, as sent
      </Text>
      <Code block aria-label="Provider usage">
        {JSON.stringify(usage.usage, null, 2)}
      </Code>
    </Stack>
  );
}

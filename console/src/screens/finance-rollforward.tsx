import {
  Button,
  Card,
  Group,
  Input,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';

import {
  getFinanceLiability,
  getFinanceRollForward,
  type MoneyFiguresDto,
  type PeriodFiguresDto,
} from '../api/generated';
import {
  getFinanceLiabilityOptions,
  getFinanceRollForwardOptions,
  listFxRatesOptions,
} from '../api/generated/@tanstack/react-query.gen';
import { MonthlyMoneyChart } from '../components/money-chart';
import { credits, errorMessage } from '../lib/format';
import { fxRateMissing, FxRates } from './finance-fx';

/** The roll-forward's money columns, in the order a finance team reads them. */
const COLUMNS: Array<[keyof MoneyFiguresDto, string]> = [
  ['opening', 'Opening'],
  ['purchased', 'Purchased'],
  ['sold', 'Sold'],
  ['recognized', 'Recognized revenue'],
  ['expired', 'Breakage (expired)'],
  ['refunded', 'Refunded'],
  ['chargedBack', 'Charged back'],
  ['voided', 'Voided'],
  ['transferredIn', 'Transferred in'],
  ['transferredOut', 'Transferred out'],
  ['closing', 'Closing liability'],
  ['disputed', 'Disputed (in closing)'],
];

/** The first day (UTC) of the month `back` months before the current one. */
function monthStart(back: number, now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1)).toISOString().slice(0, 10);
}

/** Saves text the API answered as a file of the browser's downloads. */
function save(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * The liability rolled forward month by month, for one currency as it is or for every currency
 * converted into the reporting currency (docs/finance.md "The reporting currency"): a table and a
 * chart of the closing liability and the recognized revenue, the breakage, the liability now, the
 * CSV downloads, and the stored FX rates of the range.
 */
export function RollForward() {
  const [view, setView] = useState<'currency' | 'reporting'>('currency');
  const [chosen, setChosen] = useState('usd');
  const [typed, setTyped] = useState('usd');
  const [months, setMonths] = useState('6');
  const range = useMemo(() => ({ from: monthStart(Number(months) - 1), to: monthStart(-1) }), [months]);
  // The reporting currency is the FX rates' base: the one answer that names REPORTING_CURRENCY.
  const fx = useQuery(listFxRatesOptions({ query: range }));
  const base = fx.data?.base;
  const reporting = view === 'reporting';
  const currency = reporting ? (base ?? '') : chosen;
  const which = reporting ? { reportingCurrency: currency } : { currency };
  const query = { ...which, ...range, interval: 'month' as const };
  const ready = !reporting || base !== undefined;
  const report = useQuery({ ...getFinanceRollForwardOptions({ query }), enabled: ready });
  const liability = useQuery({ ...getFinanceLiabilityOptions({ query: { ...which, limit: 1 } }), enabled: ready });
  const missing = fxRateMissing(report.error, currency) ?? fxRateMissing(liability.error, currency);
  const named = reporting ? `all currencies in ${currency.toUpperCase()}` : currency.toUpperCase();
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const periods = report.data?.periods ?? [];
  const labels = useMemo(() => periods.map((p) => p.start.slice(0, 7)), [periods]);
  const series = useMemo(
    () => [
      { label: 'Closing liability', color: '#228be6', values: periods.map((p) => p.closing) },
      { label: 'Recognized revenue', color: '#2f9e44', values: periods.map((p) => p.recognized) },
    ],
    [periods],
  );

  const download = async (what: 'rollforward' | 'liability') => {
    setDownloadError(null);
    const { data, error } =
      what === 'rollforward'
        ? await getFinanceRollForward({ query: { ...query, format: 'csv' }, parseAs: 'text' })
        : await getFinanceLiability({ query: { ...which, format: 'csv' }, parseAs: 'text' });
    if (error !== undefined || typeof data !== 'string')
      return setDownloadError(fxRateMissing(error, currency) ?? errorMessage(error));
    save(
      data,
      `${what}-${reporting ? 'reporting-' : ''}${currency}-${what === 'rollforward' ? `${range.from}-${range.to}` : 'now'}.csv`,
    );
  };

  return (
    <Stack gap="sm">
      <Title order={2} size="h3">
        Roll-forward of the liability
      </Title>
      <Group align="end">
        <Stack gap={4}>
          <Input.Label id="finance-view">Figures</Input.Label>
          <SegmentedControl
            aria-labelledby="finance-view"
            value={view}
            onChange={(value) => setView(value as 'currency' | 'reporting')}
            data={[
              { value: 'currency', label: 'Separately' },
              {
                value: 'reporting',
                label: base ? `All in ${base.toUpperCase()}` : 'Reporting currency',
                disabled: base === undefined,
              },
            ]}
          />
        </Stack>
        {!reporting && (
          <TextInput
            label="Currency"
            description="ISO 4217, lowercase"
            value={typed}
            onChange={(e) => setTyped(e.currentTarget.value.trim().toLowerCase())}
            onBlur={() => setChosen(typed)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') setChosen(typed);
            }}
          />
        )}
        <Select
          label="Months"
          data={['3', '6', '12']}
          value={months}
          onChange={(v) => setMonths(v ?? '6')}
          allowDeselect={false}
        />
        <Button variant="light" onClick={() => void download('rollforward')}>
          Download roll-forward CSV
        </Button>
        <Button variant="light" onClick={() => void download('liability')}>
          Download liability CSV
        </Button>
      </Group>
      {reporting && (
        <Text size="sm" c="dimmed">
          Every currency&apos;s money converted into {currency.toUpperCase()}, each ledger line at its own UTC
          day&apos;s stored rate and rounded to its minor unit: not the sum of the figures per currency.
        </Text>
      )}
      {downloadError && <Text c="red">{downloadError}</Text>}
      {missing && (
        <Text c="red" role="alert">
          {missing}
        </Text>
      )}
      {!missing && report.isError && <Text c="red">{errorMessage(report.error)}</Text>}
      {!missing && liability.isError && <Text c="red">{errorMessage(liability.error)}</Text>}
      {report.data && !report.data.totals && (
        <Text c="dimmed">No money in {currency.toUpperCase()} over these months.</Text>
      )}
      {report.data?.totals && (
        <>
          <SimpleGrid cols={{ base: 2, md: 3, xl: 5 }}>
            <Figure label="Closing liability" value={report.data.totals.closing} currency={currency} />
            <Figure label="Recognized revenue" value={report.data.totals.recognized} currency={currency} />
            <Figure label="Breakage" value={report.data.totals.expired} currency={currency} />
            <Figure label="Refunded and charged back" value={sum(report.data.totals)} currency={currency} />
            {liability.data && <Figure label="Liability now" value={liability.data.total} currency={currency} />}
          </SimpleGrid>
          <MonthlyMoneyChart
            title={`Closing liability and recognized revenue per UTC month, ${named}`}
            months={labels}
            currency={currency}
            series={series}
          />
          <PeriodTable periods={periods} totals={report.data.totals} named={named} />
          <Text size="sm" c="dimmed">
            Promotional credits (no money): {credits(report.data.promotional.opening)} at the start,{' '}
            {credits(report.data.promotional.granted)} granted, {credits(report.data.promotional.consumed)} consumed,{' '}
            {credits(report.data.promotional.expired)} expired, {credits(report.data.promotional.closing)} at the end.
          </Text>
        </>
      )}
      {fx.data && <FxRates list={fx.data} />}
      {fx.isError && <Text c="red">{errorMessage(fx.error)}</Text>}
    </Stack>
  );
}

/** Refunds and chargebacks, added exactly in minor units (the strings share their places). */
function sum(t: MoneyFiguresDto): string {
  const places = (t.refunded.split('.')[1] ?? '').length;
  const minor = (s: string) => BigInt(s.replace('.', '').replace(/^-/, '')) * (s.startsWith('-') ? -1n : 1n);
  const total = minor(t.refunded) + minor(t.chargedBack);
  const abs = (total < 0n ? -total : total).toString().padStart(places + 1, '0');
  const text = places === 0 ? abs : `${abs.slice(0, -places)}.${abs.slice(-places)}`;
  return total < 0n ? `-${text}` : text;
}

function Figure({ label, value, currency }: { label: string; value: string; currency: string }) {
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} aria-label={label}>
        {value} {currency.toUpperCase()}
      </Text>
    </Card>
  );
}

function PeriodTable(props: { periods: PeriodFiguresDto[]; totals: MoneyFiguresDto; named: string }) {
  return (
    <Table.ScrollContainer minWidth={1100}>
      <Table.ScrollContainer minWidth={0} type="native">
        <Table aria-label={`Roll-forward by month, ${props.named}`} striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>UTC month</Table.Th>
              {COLUMNS.map(([key, label]) => (
                <Table.Th key={key} style={{ textAlign: 'right' }}>
                  {label}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {props.periods.map((p) => (
              <Table.Tr key={p.start}>
                <Table.Td>{p.start.slice(0, 7)}</Table.Td>
                {COLUMNS.map(([key]) => (
                  <Table.Td key={key} style={{ textAlign: 'right' }}>
                    {p[key]}
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
            <Table.Tr fw={700}>
              <Table.Td>Total</Table.Td>
              {COLUMNS.map(([key]) => (
                <Table.Td key={key} style={{ textAlign: 'right' }}>
                  {props.totals[key]}
                </Table.Td>
              ))}
            </Table.Tr>
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Table.ScrollContainer>
  );
}

import { Text, TextInput } from '@mantine/core';
import { Fragment } from 'react';

/**
 * A rule's (or an account price's) dimensions beyond tokens, as the pricing screens show and edit them:
 * service tiers (`flex 50.00 %`) and unit prices (`web_search_call 10.0000`). The form takes them as
 * `name=value` pairs; the server checks names and values (400 naming the bad one), the console only splits.
 */

type Tiers = Record<string, { pricePercent: string }> | null | undefined;
type Prices = Record<string, string> | null | undefined;

/** `flex 50.00 %`, `priority 200.00 %` (the base prices are every tier the rule does not name). */
const tierParts = (tiers: Tiers): string[] =>
  Object.entries(tiers ?? {}).map(([name, tier]) => `${name} ${tier.pricePercent} %`);

/** `web_search_call 10.0000`, `image.1024x1024.hd 40.0000` (credits per unit). */
const unitParts = (prices: Prices): string[] => Object.entries(prices ?? {}).map(([name, price]) => `${name} ${price}`);

export function tiersText(tiers: Tiers): string | null {
  const parts = tierParts(tiers);
  return parts.length === 0 ? null : parts.join(' · ');
}

export function unitPricesText(prices: Prices): string | null {
  const parts = unitParts(prices);
  return parts.length === 0 ? null : parts.join(' · ');
}

/** The column of a rule's tiers and unit prices: two lines, or — when it has neither. */
export function TiersAndUnits({ tiers, units }: { tiers: Tiers; units: Prices }) {
  const lines = (
    [
      ['Tiers', tierParts(tiers)],
      ['Units', unitParts(units)],
    ] as const
  ).filter(([, parts]) => parts.length > 0);
  if (lines.length === 0) return <>—</>;
  // One item never wraps inside itself (`priority 200.00 %` stays on one line).
  return (
    <Text span inherit size="xs">
      {lines.map(([label, parts]) => (
        <Text span inherit key={label} display="block">
          {label}:{' '}
          {parts.map((part, i) => (
            <Fragment key={part}>
              {i > 0 && ' · '}
              <Text span inherit style={{ whiteSpace: 'nowrap' }}>
                {part}
              </Text>
            </Fragment>
          ))}
        </Text>
      ))}
    </Text>
  );
}

/** `name=value` pairs separated by commas, spaces or new lines; undefined when empty. */
export function parsePairs(text: string, field: string): { pairs?: Record<string, string> } | { problem: string } {
  const parts = text.split(/[\s,]+/).filter((part) => part !== '');
  if (parts.length === 0) return {};
  const pairs: Record<string, string> = {};
  for (const part of parts) {
    const at = part.indexOf('=');
    if (at <= 0 || at === part.length - 1) return { problem: `${field}: write name=value pairs ("${part}")` };
    pairs[part.slice(0, at)] = part.slice(at + 1);
  }
  return { pairs };
}

/** The form's tiers (`flex=50 priority=200`) as the body's `serviceTiers`. */
export function serviceTiersOf(
  text: string,
): { serviceTiers?: Record<string, { pricePercent: string }> } | { problem: string } {
  const parsed = parsePairs(text, 'Service tiers');
  if ('problem' in parsed) return parsed;
  if (!parsed.pairs) return {};
  return {
    serviceTiers: Object.fromEntries(
      Object.entries(parsed.pairs).map(([name, percent]) => [name, { pricePercent: percent }]),
    ),
  };
}

/** The form's unit prices (`web_search_call=10`) as the body's `unitPrices`. */
export function unitPricesOf(text: string): { unitPrices?: Record<string, string> } | { problem: string } {
  const parsed = parsePairs(text, 'Unit prices');
  if ('problem' in parsed) return parsed;
  return parsed.pairs ? { unitPrices: parsed.pairs } : {};
}

const problemOf = (parsed: object): string | undefined =>
  'problem' in parsed ? (parsed as { problem: string }).problem : undefined;

/** The two text fields of a form that edits dimensions. */
export function DimensionFields(props: {
  tiers?: { value: string; onChange: (value: string) => void };
  units: { value: string; onChange: (value: string) => void };
}) {
  return (
    <>
      {props.tiers && (
        <TextInput
          label="Service tiers (percent of every price)"
          description="name=percent, e.g. flex=50 priority=200 (0–1000, 2 places); default and standard are the base prices"
          error={problemOf(serviceTiersOf(props.tiers.value))}
          value={props.tiers.value}
          onChange={(e) => props.tiers!.onChange(e.currentTarget.value)}
        />
      )}
      <TextInput
        label="Unit prices (credits per unit)"
        description="name=credits, e.g. web_search_call=10 image.1024x1024.hd=40 (at most 4 places)"
        error={problemOf(unitPricesOf(props.units.value))}
        value={props.units.value}
        onChange={(e) => props.units.onChange(e.currentTarget.value)}
      />
    </>
  );
}

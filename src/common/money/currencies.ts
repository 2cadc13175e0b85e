/**
 * ISO 4217 currencies and their minor units (docs/finance.md): the codes a value or a plan's price may
 * name, lowercase. Amounts are decimal strings handled as BigInt minor units; no floating point.
 * The list is ISO 4217's current codes (funds and precious metals left out: they price no credits).
 */
const ZERO_PLACES = 'bif clp djf gnf isk jpy kmf krw pyg rwf ugx uyi vnd vuv xaf xof xpf';
const THREE_PLACES = 'bhd iqd jod kwd lyd omr tnd';
const FOUR_PLACES = 'clf uyw';
const TWO_PLACES =
  'aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bmd bnd bob bov brl bsd btn bwp byn bzd cad cdf che chf chw ' +
  'cny cop cou crc cuc cup cve czk dkk dop dzd egp ern etb eur fjd fkp gbp gel ghs gip gmd gtq gyd hkd hnl htg huf idr ' +
  'ils inr irr jmd kes kgs khr kpw kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mru mur mvr mwk mxn mxv myr ' +
  'mzn nad ngn nio nok npr nzd pab pen pgk php pkr pln qar ron rsd rub sar sbd scr sdg sek sgd shp sle sll sos srd ssp ' +
  'stn svc syp szl thb tjs tmt top try ttd twd tzs uah usd usn uyu uzs ved ves wst xcd xcg yer zar zmw zwg zwl';

const MINOR_UNITS: ReadonlyMap<string, number> = new Map([
  ...TWO_PLACES.split(' ').map((c) => [c, 2] as const),
  ...ZERO_PLACES.split(' ').map((c) => [c, 0] as const),
  ...THREE_PLACES.split(' ').map((c) => [c, 3] as const),
  ...FOUR_PLACES.split(' ').map((c) => [c, 4] as const),
]);

/**
 * SQL for the money `minor` of `currency` as an exact decimal with 4 places (every currency has at
 * most 4): the minor units divided by the currency's unit, in `numeric`.
 */
export function moneySql(minor: string, currency: string): string {
  const byPlaces = new Map<number, string[]>();
  for (const [code, places] of MINOR_UNITS) byPlaces.set(places, [...(byPlaces.get(places) ?? []), code]);
  const cases = [...byPlaces]
    .filter(([places]) => places !== 2)
    .map(([places, codes]) => `WHEN ${currency} IN (${codes.map((c) => `'${c}'`).join(', ')}) THEN ${10 ** places}`)
    .join(' ');
  return `round(${minor}::numeric / CASE ${cases} ELSE 100 END, 4)`;
}

/**
 * SQL for the factor that turns minor units of `currency` (a column) into minor units of a currency of
 * `places` places at a rate of 1: 10^(places − the currency's places), as an exact `numeric` literal
 * (100 from jpy to usd, 0.01 from usd to jpy), so a conversion multiplies and never divides.
 */
export function rescaleSql(currency: string, places: number): string {
  const factor = (from: number) => {
    const k = places - from;
    return k >= 0 ? `1${'0'.repeat(k)}` : `0.${'0'.repeat(-k - 1)}1`;
  };
  const byPlaces = new Map<number, string[]>();
  for (const [code, p] of MINOR_UNITS) byPlaces.set(p, [...(byPlaces.get(p) ?? []), code]);
  const cases = [...byPlaces]
    .filter(([p]) => p !== 2)
    .map(([p, codes]) => `WHEN ${currency} IN (${codes.map((c) => `'${c}'`).join(', ')}) THEN ${factor(p)}::numeric`)
    .join(' ');
  return `CASE ${cases} ELSE ${factor(2)}::numeric END`;
}

/** The currency's minor unit places, or undefined when ISO 4217 does not list the code. */
export function minorUnits(currency: string): number | undefined {
  return MINOR_UNITS.get(currency);
}

/**
 * Where a money value is stored beyond the rule: a `numeric(14,4)` column (purchases, packages) takes
 * at most 10 whole digits; `places` bounds a column that holds fewer places than some currencies have,
 * so an amount it cannot hold is refused, never cut.
 */
export interface MoneyLimits {
  places?: number;
  digits?: number;
}

/** The ISO 4217 currency problem of `currency`, or null. */
export function currencyProblem(currency: unknown): string | null {
  return typeof currency === 'string' && minorUnits(currency) !== undefined
    ? null
    : 'currency must be an ISO 4217 code in lowercase (usd, eur, jpy, …)';
}

/**
 * The one money rule of every body (docs/finance.md): why `{amount, currency}` is not a valid money
 * value, or null. An ISO 4217 currency, an amount > 0 of at most the currency's minor places (and at
 * most `limits` where it is stored): "0.50" jpy is refused, nothing is rounded.
 */
export function moneyProblem(money: { amount?: unknown; currency?: unknown }, limits: MoneyLimits = {}): string | null {
  const currency = currencyProblem(money.currency);
  if (currency !== null) return currency;
  const places = Math.min(minorUnits(money.currency as string)!, limits.places ?? Infinity);
  const digits = limits.digits ?? 15;
  const pattern =
    places === 0 ? new RegExp(`^\\d{1,${digits}}$`) : new RegExp(`^\\d{1,${digits}}(\\.\\d{1,${places}})?$`);
  if (typeof money.amount !== 'string' || !pattern.test(money.amount)) {
    return `amount must be a decimal string of at most ${digits} digits and ${places} decimal places for ${String(money.currency)}`;
  }
  if (toMinor(money.amount, money.currency as string) <= 0n) return 'amount must be more than 0';
  return null;
}

/** "120.5" usd → 12050n. The caller has checked it (moneyProblem()); extra places are cut. */
export function toMinor(amount: string, currency: string): bigint {
  const places = minorUnits(currency) ?? 2;
  const [whole, fraction = ''] = amount.split('.');
  return BigInt(whole) * 10n ** BigInt(places) + BigInt(fraction.slice(0, places).padEnd(places, '0') || '0');
}

/** 12050n usd → "120.50"; -5n → "-0.05". */
export function fromMinor(minor: bigint | string | number, currency: string): string {
  const places = BigInt(minorUnits(currency) ?? 2);
  const n = BigInt(minor);
  const abs = n < 0n ? -n : n;
  const unit = 10n ** places;
  const whole = (abs / unit).toString();
  const text = places === 0n ? whole : `${whole}.${(abs % unit).toString().padStart(Number(places), '0')}`;
  return n < 0n ? `-${text}` : text;
}

/** A money value as the API shows it. */
export interface MoneyView {
  amount: string;
  currency: string;
}

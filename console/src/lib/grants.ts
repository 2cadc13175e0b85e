/**
 * A feature's grant as the API says it (docs/features.md): `true`/`false` for a boolean feature,
 * `{limit, period}` for a metered one, `{value}` for a config one. Shared by the console and the
 * portal: how a grant reads, and the form that edits one.
 */
export type FeatureType = 'boolean' | 'metered' | 'config';
export type GrantPeriod = 'day' | 'week' | 'month' | 'lifetime';
export type Grant = boolean | { limit: number; period: GrantPeriod } | { value: unknown };

export const GRANT_PERIODS: GrantPeriod[] = ['day', 'week', 'month', 'lifetime'];

const integer = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

/** A grant in a few words: `granted`, `not granted`, `100 a day`, `10 in all`, `{"tokens":8000}`. */
export function grantText(grant: unknown): string {
  if (grant === null || grant === undefined) return 'no grant';
  if (grant === true) return 'granted';
  if (grant === false) return 'not granted';
  if (typeof grant === 'object' && 'limit' in grant) {
    const { limit, period } = grant as { limit: number; period: GrantPeriod };
    return period === 'lifetime' ? `${integer(limit)} in all` : `${integer(limit)} a ${period}`;
  }
  if (typeof grant === 'object' && 'value' in grant) return JSON.stringify((grant as { value: unknown }).value);
  return JSON.stringify(grant);
}

/** What the grant dialog edits, as text fields (a number input's text, the JSON as typed). */
export interface GrantForm {
  granted: boolean;
  limit: string | number;
  period: GrantPeriod;
  value: string;
}

/** The form showing a grant, or a blank one for a feature's type when there is none. */
export function grantForm(grant: unknown): GrantForm {
  const form: GrantForm = { granted: true, limit: '', period: 'month', value: '' };
  if (typeof grant === 'boolean') return { ...form, granted: grant };
  if (grant && typeof grant === 'object' && 'limit' in grant) {
    const { limit, period } = grant as { limit: number; period: GrantPeriod };
    return { ...form, limit, period };
  }
  if (grant && typeof grant === 'object' && 'value' in grant) {
    return { ...form, value: JSON.stringify((grant as { value: unknown }).value, null, 2) };
  }
  return form;
}

/**
 * The grant the form says for a feature of `type`, or the reason it says none. The limit and the JSON
 * are sent as typed (the service checks ranges and size); only what cannot be sent at all is refused here.
 */
export function grantOf(type: FeatureType, form: GrantForm): { grant: Grant } | { error: string } {
  if (type === 'boolean') return { grant: form.granted };
  if (type === 'metered') {
    const text = String(form.limit).trim();
    if (!/^\d+$/.test(text)) return { error: 'The limit is a whole number of uses, 0 or more.' };
    return { grant: { limit: Number(text), period: form.period } };
  }
  try {
    return { grant: { value: JSON.parse(form.value) as unknown } };
  } catch {
    return { error: 'The value is not valid JSON.' };
  }
}

/** A plan's grants by feature key (`features` on the plan's view; null when it grants none). */
export const planFeatures = (plan: { features: Record<string, unknown> | null }): Record<string, Grant> =>
  (plan.features ?? {}) as Record<string, Grant>;

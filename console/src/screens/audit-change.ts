type Json = Record<string, unknown>;

/** One field of an audit entry: its value before and after (a dotted path for nested objects). */
export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface Change {
  /** `created` (no before), `deleted` (no after), or `changed`. */
  kind: 'created' | 'deleted' | 'changed';
  fields: FieldChange[];
}

/** Nested objects as dotted paths (`providerCost.input`); arrays and scalars are leaves. */
function flatten(object: Json | null, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [key, value] of Object.entries(object ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) flatten(value as Json, path, out);
    else out.set(path, value);
  }
  return out;
}

/**
 * What an audit entry changed, field by field: for an update the fields whose value differs; for a
 * creation (or a deletion) the fields it set (or held), without the nulls and without the id the
 * entry's target already names. Never the whole object with its unchanged fields.
 */
export function changeOf(before: Json | null, after: Json | null, targetId?: string): Change {
  const was = flatten(before);
  const is = flatten(after);
  if (!before || !after) {
    const kind = before ? 'deleted' : 'created';
    const fields = [...(before ? was : is)]
      .filter(([field, value]) => value !== null && value !== undefined && !(field === 'id' && value === targetId))
      .map(([field, value]) =>
        kind === 'created' ? { field, before: null, after: value } : { field, before: value, after: null },
      );
    return { kind, fields };
  }
  const fields = [...new Set([...was.keys(), ...is.keys()])]
    .filter((field) => JSON.stringify(was.get(field) ?? null) !== JSON.stringify(is.get(field) ?? null))
    .map((field) => ({ field, before: was.get(field) ?? null, after: is.get(field) ?? null }));
  return { kind: 'changed', fields };
}

/** A value as text: strings as they are, null as —, numbers and arrays as JSON (exact). */
export function valueText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value === '' ? '""' : value;
  return JSON.stringify(value);
}

/** The change as lines of text (`field: before → after`, or `field: value` for a creation/deletion). */
export function describeChange(before: Json | null, after: Json | null, targetId?: string): string {
  const change = changeOf(before, after, targetId);
  if (change.fields.length === 0) return change.kind === 'changed' ? 'no change' : change.kind;
  return change.fields
    .map(({ field, before: was, after: is }) =>
      change.kind === 'changed'
        ? `${field}: ${valueText(was)} → ${valueText(is)}`
        : `${field}: ${valueText(change.kind === 'created' ? is : was)}`,
    )
    .join('\n');
}

import fc from 'fast-check';

/** The parts of an OpenAPI 3.0 schema object the fuzz test reads. */
export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  nullable?: boolean;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
}

export type Components = Record<string, Schema>;

/** Users the fuzzer may name: money checks are scoped to them, so parallel specs never interfere. */
export const FUZZ_USERS = ['fuzz-a', 'fuzz-b'];

const ODD_STRINGS = [
  '',
  ' ',
  '\ud800',
  'a\udc00b',
  'nul\u0000byte',
  '😀'.repeat(30),
  'x'.repeat(5000),
  '../../etc/passwd',
  "'; DROP TABLE credit_ledger; --",
  '%00',
  '%E0%A4%A',
  '2026-02-30',
  '9999-12-31',
  '0000-01-01',
  '2027-W47',
  '2027-326',
  '20271122',
  '-1',
  '1e309',
  'NaN',
  'null',
  '{}',
];

const ODD_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1.5,
  2_147_483_648,
  Number.MAX_SAFE_INTEGER,
  -2_147_483_649,
  [],
  [1],
  {},
  { a: { b: { c: 1 } } },
  ...ODD_STRINGS,
];

const forgedCursor = (t: string, id: string) => Buffer.from(JSON.stringify({ t, id })).toString('base64url');
export const FORGED_CURSORS = [
  forgedCursor('2026-02-30T00:00:00.000000Z', '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a'),
  forgedCursor('0000-01-01T00:00:00.000000Z', 'x'),
  forgedCursor('9999-12-31T23:59:59.999999Z', '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a'),
  Buffer.from('{"id":"99999999999999999999"}').toString('base64url'),
  Buffer.from('[]').toString('base64url'),
  'not-a-cursor',
];

export function resolve(schema: Schema, components: Components): Schema {
  let current = schema;
  for (let i = 0; i < 10 && current.$ref; i++) current = components[current.$ref.split('/').pop()!];
  if (current.allOf?.length === 1) return resolve(current.allOf[0], components);
  return current;
}

/**
 * Made once: fast-check builds a `stringMatching` arbitrary by parsing the pattern and checking its
 * default slices against it, a few ms each time, and the fuzz spec asks for one per string field of
 * every operation (a tenth of its CPU). An arbitrary keeps no state: the values are the same.
 */
const SLUG = fc.stringMatching(/^[a-z0-9-]+$/);

function stringFor(name: string, schema: Schema): fc.Arbitrary<string> {
  if (schema.enum) return fc.constantFrom(...(schema.enum as string[]));
  if (/userId$/i.test(name)) return fc.constantFrom(...FUZZ_USERS);
  if (schema.format === 'date')
    return fc
      .date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
  if (/date|At$|effective|^from$|^to$/i.test(name) || schema.format === 'date-time')
    return fc
      .date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString());
  if (schema.format === 'uuid') return fc.uuid();
  if (/price|cost/i.test(name)) return fc.integer({ min: 0, max: 999_999 }).map((n) => (n / 100).toFixed(2));
  const max = Math.min(schema.maxLength ?? 40, 40);
  const min = Math.min(schema.minLength ?? 1, max);
  return SLUG.filter((s) => s.length >= min && s.length <= max);
}

/** Values the schema allows (as the fuzzer understands it). */
export function valid(schema: Schema, components: Components, name = ''): fc.Arbitrary<unknown> {
  const s = resolve(schema, components);
  const options = s.oneOf ?? s.anyOf;
  if (options) return fc.oneof(...options.map((o) => valid(o, components, name)));
  switch (s.type) {
    case 'integer':
      return fc.integer({ min: s.minimum ?? 0, max: Math.min(s.maximum ?? 1000, 1000) });
    case 'number':
      return fc.integer({ min: s.minimum ?? 0, max: Math.min(s.maximum ?? 1000, 1000) });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const item = s.items ? valid(s.items, components, name) : fc.string();
      return fc.array(item, { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 3, 3) });
    }
    case 'object':
    case undefined: {
      if (!s.properties) return fc.constant({ note: 'fuzz' });
      const required = new Set(s.required ?? []);
      const entries = Object.entries(s.properties).map(([key, prop]) => [key, valid(prop, components, key)] as const);
      return fc.record(Object.fromEntries(entries), {
        requiredKeys: entries.map(([k]) => k).filter((k) => required.has(k)),
      });
    }
    default:
      return stringFor(name, s);
  }
}

/** A body the schema does not allow (or an edge of what it allows), derived from a valid one. */
export function mutated(schema: Schema, components: Components): fc.Arbitrary<unknown> {
  const s = resolve(schema, components);
  const base = valid(s, components) as fc.Arbitrary<Record<string, unknown>>;
  const keys = Object.keys(s.properties ?? {});
  const field = keys.length ? fc.constantFrom(...keys) : fc.constant('unknownField');
  return fc.oneof(
    // a field replaced by a value of another type, a boundary, or an odd string
    fc
      .tuple(base, field, fc.constantFrom(...ODD_VALUES))
      .map(([body, key, value]) => ({ ...(body as object), [key]: value })),
    // a required field missing
    fc.tuple(base, field).map(([body, key]) => {
      const copy = { ...(body as object) } as Record<string, unknown>;
      delete copy[key];
      return copy;
    }),
    // an unknown field
    base.map((body) => ({ ...(body as object), unexpected: 1 })),
    // not an object at all, or nested too deep
    fc.constantFrom<unknown>([], 'text', 42, null, JSON.parse('['.repeat(40) + ']'.repeat(40)), {
      metadata: JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)),
    }),
  );
}

/** A query or path value: usually valid, often odd. */
export function parameter(
  name: string,
  schema: Schema | undefined,
  components: Components,
  inPath: boolean,
): fc.Arbitrary<string | undefined> {
  const asText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const good = (schema ? valid(schema, components, name) : fc.string()).map(asText);
  const odd = fc.constantFrom(...ODD_VALUES.map(asText));
  const choices: fc.Arbitrary<string | undefined>[] = [good, odd];
  if (name === 'cursor') choices.push(fc.constantFrom(...FORGED_CURSORS));
  if (!inPath) {
    choices.push(fc.constant(undefined));
    return fc.oneof(...choices);
  }
  // An empty path segment would address another route (GET /api/api-keys/ is the list), not test this one.
  return fc.oneof(...choices).filter((v) => v !== undefined && v !== '' && v.trim() === v);
}

/** Escapes a query string must not carry: not hex, `%u` escapes, a lone `%`, and bytes that are not UTF-8 of a character. */
export const BAD_ESCAPES = ['%ZZ', '%u0041', '%', '%ED%A0%80', '%ED%B0%80', '%C0%AF', '%E2%82', '%80', '%F4%90%80%80'];

/** Which rule a query parameter's text must follow, if it is one the fuzzer knows how to break. */
export type QueryKind = 'integer' | 'enum' | 'date' | 'boolean';

export function queryKind(name: string, schema: Schema | undefined): QueryKind | null {
  if (!schema) return null;
  if (schema.enum) return 'enum';
  if (schema.type === 'integer') return 'integer';
  if (schema.type === 'boolean') return 'boolean';
  if (/date$|^from$|^to$|At$/i.test(name) || schema.format === 'date' || schema.format === 'date-time') return 'date';
  return null;
}

/** `text` percent-encoded as a client would (the forms below are raw URL text, sent as written). */
const enc = (text: string) => encodeURIComponent(text);

/**
 * A query value, as raw URL text, that the parameter's rule must refuse although `Number()`, a
 * case-insensitive compare, `Date.parse` or a lenient parser would take it: for an integer in its
 * range, other notations (`0x10`, `1e2`, `+5`, ` 5`, `5.0`, full-width digits…); for an enum, its
 * values in another case or padded; for a date, other ISO-8601 forms, epoch seconds, impossible days;
 * for a boolean, `1`, `yes`, `TRUE`. Any of them may instead carry a malformed escape.
 */
export function invalidQueryValue(kind: QueryKind, schema: Schema): fc.Arbitrary<string> {
  const forms = (() => {
    switch (kind) {
      case 'integer': {
        const n = Math.max(schema.minimum ?? 1, Math.min(16, schema.maximum ?? 16));
        return [
          `0x${n.toString(16)}`,
          `0X${n.toString(16)}`,
          `0b${n.toString(2)}`,
          `0o${n.toString(8)}`,
          `${n}e0`,
          `${n / 10}e1`,
          `+${n}`, // a space in a query string
          enc(`+${n}`),
          enc(` ${n}`),
          enc(`${n} `),
          enc(`\t${n}`),
          enc(`${n}\n`),
          `${n}.0`,
          `${n}.`,
          `1_${n}`,
          enc(String(n).replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)))), // full-width digits
          'Infinity',
          'NaN',
          '',
        ];
      }
      case 'enum': {
        const v = String(schema.enum![0]);
        const variants = [v.toUpperCase(), v[0].toUpperCase() + v.slice(1), v.toLowerCase()];
        return [
          ...variants.filter((x) => !schema.enum!.includes(x)).map(enc),
          enc(` ${v}`),
          enc(`${v} `),
          `+${v}`,
          `${enc(v)},${enc(v)}`,
          enc(`${v}\0`),
          '',
        ];
      }
      case 'date':
        return [
          enc(' 2026-11-01'),
          enc('2026-11-01 '),
          '+2026-11-01',
          enc('+2026-11-01'),
          '2026-11-1',
          '20261101',
          '2026-W44',
          '2026-305',
          '2026-02-30',
          '2026-11-01T24:00',
          enc('2026-11-01T00:00:00+0000'),
          '1793491200',
          '0x10',
          '1e2',
          'now',
          '',
        ];
      case 'boolean':
        return ['TRUE', 'True', '1', '0', 'yes', enc(' true'), enc('false '), ''];
    }
  })();
  return fc.oneof({ arbitrary: fc.constantFrom(...forms), weight: 3 }, fc.constantFrom(...BAD_ESCAPES));
}

import fc from 'fast-check';

import type { BodySpec, BodyTransform, Ctx, FuzzRequest } from './fuzz-arbitraries.js';
import type { FuzzOperation, OpenApiDocument, Schema } from './fuzz-openapi.js';
import { resolveSchema } from './fuzz-openapi.js';
import {
  boundaryNumbers,
  DATE_FIELDS,
  DEPTHS,
  EXTRA_QUERY_NAMES,
  FORGED_CURSORS,
  nested,
  ODD_DATES,
  ODD_IDEMPOTENCY_KEYS,
  ODD_STRINGS,
  RAW_NUMBERS,
  RAW_URL_FRAGMENTS,
  RawJson,
  RawUrl,
  WRONG_TYPES,
} from './fuzz-values.js';

/**
 * The invalid half of the fuzz test: one part of an otherwise valid request made invalid (a body
 * field, the body's bytes or type, a parameter, a header, an extra or repeated query parameter).
 */

/** A value the schema refuses, or one at the very edge of what it allows. */
export function invalidValue(schema: Schema | undefined, ctx: Ctx): fc.Arbitrary<unknown> {
  const s = schema ? resolveSchema(schema, ctx.doc).schema : {};
  const inUrl = ctx.where === 'query' || ctx.where === 'path';
  const choices: fc.Arbitrary<unknown>[] = [fc.constantFrom(...ODD_STRINGS), fc.constantFrom(...WRONG_TYPES)];
  const max = s.maxLength ?? 100;
  choices.push(
    fc.constantFrom(
      'x'.repeat(max + 1),
      '😀'.repeat(max),
      '😀'.repeat(max + 1),
      'é'.repeat(max),
      'a\u0301'.repeat(max),
    ),
  );
  const numeric = s.type === 'integer' || s.type === 'number' || (s.oneOf ?? []).some((o) => o.type === 'number');
  if (numeric) {
    choices.push(fc.constantFrom(...boundaryNumbers(s.minimum ?? 0, s.maximum ?? 2_147_483_647)));
    if (!inUrl) choices.push(fc.constantFrom(...RAW_NUMBERS.map((n) => new RawJson(n))));
    else choices.push(fc.constantFrom('1e3', '0x10', ' 5', '5 ', '+5', '00', '٣', '1_000', ''));
  }
  if (DATE_FIELDS.test(ctx.field) || /cursor/i.test(ctx.field)) choices.push(fc.constantFrom(...ODD_DATES));
  if (ctx.field === 'cursor') choices.push(fc.constantFrom(...FORGED_CURSORS));
  if (s.enum)
    choices.push(
      fc.constantFrom(...s.enum.flatMap((v) => [String(v).toUpperCase(), ` ${String(v)}`, `${String(v)}\u0000`])),
    );
  if (s.type === 'array')
    choices.push(fc.constantFrom<unknown>([], ['unknown:scope'], new Array(60).fill('credits:read')));
  if (inUrl) choices.push(fc.constantFrom(...RAW_URL_FRAGMENTS.map((f) => new RawUrl(f))));
  else
    choices.push(
      fc
        .tuple(fc.constantFrom(...DEPTHS), fc.constantFrom('object' as const, 'array' as const, 'mixed' as const))
        .map(([depth, kind]) => nested(depth, kind)),
    );
  return fc.oneof(...choices);
}

const UNKNOWN_KEYS = ['unexpected', '__proto__', 'constructor', 'prototype', 'toString', '', '\ud800', 'k'.repeat(300)];

type BodyMutation =
  | { kind: 'set'; key: string; value: unknown }
  | { kind: 'delete'; key: string }
  | { kind: 'replace'; body: BodySpec }
  | { kind: 'transform'; transform: BodyTransform }
  | { kind: 'contentType'; contentType: string | null };

function bodyMutation(schema: Schema, ctx: Ctx): fc.Arbitrary<BodyMutation> {
  const { schema: s } = resolveSchema(schema, ctx.doc);
  const props = Object.entries(s.properties ?? {});
  const mutations: fc.Arbitrary<BodyMutation>[] = [];
  if (props.length) {
    mutations.push(
      fc.oneof(
        ...props.map(([key, prop]) =>
          invalidValue(prop, { ...ctx, field: key }).map((value): BodyMutation => ({ kind: 'set', key, value })),
        ),
      ),
      fc.constantFrom(...props.map(([key]): BodyMutation => ({ kind: 'delete', key }))),
      fc.constantFrom(...props.map(([key]): BodyMutation => ({ kind: 'set', key, value: null }))),
    );
  }
  mutations.push(
    fc
      .tuple(fc.constantFrom(...UNKNOWN_KEYS), fc.constantFrom<unknown>(1, null, {}, { admin: true }))
      .map(([key, value]): BodyMutation => ({ kind: 'set', key, value })),
    fc
      .constantFrom<unknown>([], [{}], 'text', '', 42, 0, null, true, {}, nested(40, 'object'), nested(3000, 'array'))
      .map((json): BodyMutation => ({ kind: 'replace', body: { json } })),
    fc
      .constantFrom<BodySpec>(
        { raw: '' },
        { raw: '{' },
        { raw: '{"a":1,}' },
        { raw: 'NaN' },
        { raw: '\u0000' },
        { raw: '{"a":"\\ud800"}' },
        { raw: '{"a":"\\u0000"}' },
        { raw: '['.repeat(100_000) },
        { raw: 'credits=1', contentType: 'application/x-www-form-urlencoded' },
        { raw: '', contentType: null },
      )
      .map((body): BodyMutation => ({ kind: 'replace', body })),
    fc
      .constantFrom<BodyTransform>(
        'bom',
        'duplicate-key',
        'trailing-garbage',
        'truncated',
        'oversized',
        'single-quotes',
      )
      .map((transform): BodyMutation => ({ kind: 'transform', transform })),
    fc
      .constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'application/vnd.api+json',
        'application/json;;',
        'APPLICATION/JSON',
        null,
      )
      .map((contentType): BodyMutation => ({ kind: 'contentType', contentType })),
  );
  return fc.oneof(...mutations);
}

function applyBodyMutation(body: BodySpec | undefined, m: BodyMutation): BodySpec {
  const base = body ?? { json: {} };
  const json = (base.json ?? {}) as Record<string, unknown>;
  switch (m.kind) {
    case 'set':
      return { ...base, json: { ...json, [m.key]: m.value } };
    case 'delete': {
      const copy = { ...json };
      delete copy[m.key];
      return { ...base, json: copy };
    }
    case 'replace':
      return m.body;
    case 'transform':
      return { ...base, transform: m.transform };
    case 'contentType':
      return { ...base, contentType: m.contentType };
  }
}

type Mutation =
  | { site: 'body'; mutation: BodyMutation }
  | { site: 'param'; where: 'query' | 'path' | 'header'; name: string; value: unknown }
  | { site: 'extraQuery'; name: string; value: unknown }
  | { site: 'repeatQuery'; name: string; values: unknown[] };

export function mutationArbitrary(op: FuzzOperation, doc: OpenApiDocument): fc.Arbitrary<Mutation> {
  const params = (op.op.parameters ?? []).filter((p) => p.in !== 'cookie');
  const sites: fc.Arbitrary<Mutation>[] = [];
  const bodySchema = op.op.requestBody?.content['application/json']?.schema;
  if (bodySchema) {
    const ctx: Ctx = { op, doc, field: '', where: 'body' };
    const m = bodyMutation(bodySchema, ctx).map((mutation): Mutation => ({ site: 'body', mutation }));
    sites.push(m, m, m);
  } else {
    // A body where the operation takes none: JSON, another type, or too large.
    sites.push(
      fc
        .constantFrom<BodySpec>(
          { json: { a: 1 } },
          { json: [] },
          { raw: 'hello', contentType: 'text/plain' },
          { raw: '{', contentType: 'application/json' },
          { json: { a: 1 }, transform: 'oversized' },
        )
        .map((body): Mutation => ({ site: 'body', mutation: { kind: 'replace', body } })),
    );
  }
  for (const p of params) {
    const ctx: Ctx = { op, doc, field: p.name, where: p.in as Ctx['where'] };
    const value =
      p.in === 'header'
        ? fc.constantFrom<unknown>(...ODD_IDEMPOTENCY_KEYS)
        : invalidValue(p.schema, ctx).filter((v) => p.in !== 'path' || pathSafe(v));
    const where = p.in as 'query' | 'path' | 'header';
    sites.push(value.map((v): Mutation => ({ site: 'param', where, name: p.name, value: v })));
  }
  sites.push(
    fc
      .tuple(fc.constantFrom(...EXTRA_QUERY_NAMES), fc.constantFrom<unknown>('', '1', 'x', ODD_STRINGS[3]))
      .map(([name, value]): Mutation => ({ site: 'extraQuery', name, value })),
  );
  const queryParams = params.filter((p) => p.in === 'query');
  if (queryParams.length)
    sites.push(
      fc
        .tuple(
          fc.constantFrom(...queryParams.map((p) => p.name)),
          fc.array(fc.constantFrom<unknown>('1', '2', '', 'x'), { minLength: 2, maxLength: 3 }),
        )
        .map(([name, values]): Mutation => ({ site: 'repeatQuery', name, values })),
    );
  return fc.oneof(...sites);
}

/** Path values that still address this operation (an empty or dot segment would route elsewhere). */
function pathSafe(value: unknown): boolean {
  if (value instanceof RawUrl) return true;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text !== undefined && text.trim() !== '' && !/^\.+$/.test(text.trim());
}

export function applyMutation(req: FuzzRequest, m: Mutation): FuzzRequest {
  switch (m.site) {
    case 'body':
      return { ...req, body: applyBodyMutation(req.body, m.mutation) };
    case 'param':
      if (m.where === 'query')
        return { ...req, query: [...req.query.filter(([n]) => n !== m.name), [m.name, m.value]] };
      if (m.where === 'path') return { ...req, path: { ...req.path, [m.name]: m.value } };
      return { ...req, headers: { ...req.headers, [m.name]: m.value } };
    case 'extraQuery':
      return { ...req, query: [...req.query, [m.name, m.value]] };
    case 'repeatQuery':
      return { ...req, query: [...req.query, ...m.values.map((v): [string, unknown] => [m.name, v])] };
  }
}

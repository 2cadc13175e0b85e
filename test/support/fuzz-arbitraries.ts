import fc from 'fast-check';

import { applyMutation, mutationArbitrary } from './fuzz-mutations.js';
import type { FuzzOperation, OpenApiDocument, Parameter, Schema } from './fuzz-openapi.js';
import { resolveSchema } from './fuzz-openapi.js';
import { IDEMPOTENCY_KEYS } from './fuzz-values.js';

/** A value taken from the world's pools (ids the service handed out) when the request is sent. */
export class Ref {
  constructor(
    readonly pool: string,
    readonly pick: number,
  ) {}
}

/** Changes to a serialised JSON body: byte-level oddities a JSON value cannot express. */
export type BodyTransform = 'bom' | 'duplicate-key' | 'trailing-garbage' | 'truncated' | 'oversized' | 'single-quotes';

export interface BodySpec {
  json?: unknown;
  raw?: string;
  transform?: BodyTransform;
  /** null: no Content-Type header at all. */
  contentType?: string | null;
}

export interface FuzzRequest {
  caller: number;
  /** Only the valid generators were used: the service may refuse it for rules the schema cannot say. */
  valid: boolean;
  path: Record<string, unknown>;
  query: [string, unknown][];
  headers: Record<string, unknown>;
  body?: BodySpec;
}

export interface Ctx {
  op: FuzzOperation;
  doc: OpenApiDocument;
  field: string;
  where: 'body' | 'query' | 'path' | 'header';
}

const DAY = 86_400_000;
const NOW = Date.now();
const iso = (min: number, max: number) => fc.integer({ min, max }).map((ms) => new Date(ms).toISOString());
const dateOnly = (min: number, max: number) => iso(min, max).map((s) => s.slice(0, 10));

/** Valid dates by field name: the schema says `string`, the description says what kind of instant. */
function dateArbitrary(field: string): fc.Arbitrary<string> | undefined {
  if (field === 'expiresAt') return iso(NOW + DAY, NOW + 900 * DAY);
  if (/^effective(From|To)$/.test(field)) return iso(NOW - 400 * DAY, NOW + 800 * DAY);
  if (/^(start|end)Date$/.test(field))
    return fc.oneof(dateOnly(NOW - 60 * DAY, NOW + 2 * DAY), iso(NOW - 60 * DAY, NOW + 2 * DAY));
  return undefined;
}

/** Ids the service handed out, by field name (valid requests reach real objects, also other users'). */
function poolArbitrary(ctx: Ctx): fc.Arbitrary<unknown> | undefined {
  const ref = (pool: string) => fc.nat().map((n) => new Ref(pool, n));
  const { field, op } = ctx;
  if (field === 'userId') return ref('userId');
  if (field === 'modelId')
    return op.method === 'post' && op.path === '/api/pricing'
      ? fc.oneof({ weight: 2, arbitrary: ref('ownModelId') }, { weight: 1, arbitrary: ref('freshModelId') })
      : ref('modelId');
  if (field === 'sessionId')
    return op.path.endsWith('/initialize')
      ? fc.oneof({ weight: 5, arbitrary: ref('freshSessionId') }, { weight: 1, arbitrary: ref('sessionId') })
      : ref('sessionId');
  if (field === 'key' && op.path.endsWith('/verify')) return ref('apiKey');
  if (field === 'cursor') return fc.oneof(ref(`cursor:${op.id}`), ref('cursor'));
  if (field === 'id' && ctx.where === 'path')
    return ref(op.path.includes('/allocations/') ? 'allocationId' : 'apiKeyId');
  // Mostly fresh keys; now and then a reused one, so replays (and 422 for another body) happen too.
  if (field === 'Idempotency-Key')
    return fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom(...IDEMPOTENCY_KEYS) },
      { weight: 6, arbitrary: fc.uuid() },
    );
  return undefined;
}

const slug = (min: number, max: number) =>
  fc.stringMatching(/^[a-z0-9][a-z0-9.:_-]*$/).filter((s) => s.length >= min && s.length <= max);

/** A value the schema allows (with ids and dates that mean something to the service). */
export function validValue(schema: Schema | undefined, ctx: Ctx): fc.Arbitrary<unknown> {
  const fromPool = poolArbitrary(ctx);
  if (fromPool) return fromPool;
  const date = dateArbitrary(ctx.field);
  if (date) return date;
  if (!schema) return slug(1, 20);
  const { schema: s } = resolveSchema(schema, ctx.doc);
  if (s.enum) return fc.constantFrom(...s.enum);
  const options = s.oneOf ?? s.anyOf;
  if (options) return fc.oneof(...options.map((o) => validValue(o, ctx)));
  switch (s.type) {
    case 'integer':
    case 'number': {
      const min = s.minimum ?? 0;
      const max = s.maximum ?? min + 10_000;
      // Prices are decimals: a number or a string with at most 4 places.
      const decimal = /price|cost/i.test(ctx.field);
      const small = fc.integer({ min, max: Math.min(max, min + 2_000) });
      return fc.oneof(
        { weight: 8, arbitrary: decimal ? small.map((n) => n / 1000) : small },
        { weight: 1, arbitrary: decimal ? fc.constantFrom(0, 0.0001, 999_999.9999) : fc.constantFrom(min, max) },
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const items = s.items ? resolveSchema(s.items, ctx.doc).schema : undefined;
      const min = s.minItems ?? (ctx.field === 'permissions' ? 1 : 0);
      const max = Math.min(s.maxItems ?? 4, 4);
      if (items?.enum) return fc.uniqueArray(fc.constantFrom(...items.enum), { minLength: min, maxLength: max });
      return fc.array(validValue(items, { ...ctx, field: `${ctx.field}[]` }), { minLength: min, maxLength: max });
    }
    case 'object':
    case undefined:
      return validObject(s, ctx);
    default: {
      if (ctx.field === 'email') return slug(1, 20).map((local) => `${local.replace(/[^a-z0-9]/g, 'x')}@example.com`);
      // NUMERIC(10,4): up to 999999.9999, at most 4 places.
      if (/price|cost/i.test(ctx.field))
        return fc.oneof(
          { weight: 6, arbitrary: fc.integer({ min: 0, max: 99_999_999 }).map((n) => (n / 10_000).toFixed(4)) },
          { weight: 1, arbitrary: fc.constantFrom('0', '0.0001', '999999.9999', '1.5', '000.5000') },
        );
      const max = Math.min(s.maxLength ?? 40, 40);
      const min = Math.min(s.minLength ?? 1, max);
      // Mostly plain ids; sometimes any Unicode text (no NUL, which PostgreSQL text refuses by design).
      const unicode = fc
        .string({ unit: 'binary', minLength: min, maxLength: Math.max(min, Math.min(max, 12)) })
        .filter((v) => !v.includes('\0') && v.trim().length > 0);
      return fc.oneof({ weight: 4, arbitrary: slug(min, max) }, { weight: 1, arbitrary: unicode });
    }
  }
}

function validObject(s: Schema, ctx: Ctx): fc.Arbitrary<unknown> {
  if (!s.properties) {
    // Free-form JSON (usage metadata): small, and of every JSON type.
    const leaf = fc.oneof(slug(0, 12), fc.integer(), fc.boolean(), fc.constant(null));
    return fc.dictionary(slug(1, 10), fc.oneof(leaf, fc.array(leaf, { maxLength: 3 })), { maxKeys: 4 });
  }
  const required = new Set(s.required ?? []);
  const entries = Object.entries(s.properties).map(
    ([key, prop]) => [key, validValue(prop, { ...ctx, field: key })] as const,
  );
  const record = fc.record(Object.fromEntries(entries), {
    requiredKeys: entries.map(([k]) => k).filter((k) => required.has(k)),
  });
  return fc.tuple(record, fc.boolean()).map(([value, pickFirst]) => crossFieldRules(value, pickFirst));
}

/**
 * Rules between fields that the descriptions state and a schema cannot: one token count or the
 * input/output split, expiryDays or expiresAt, an end after its start. Applied to valid values only,
 * so valid requests reach the service's logic instead of all ending as 400.
 */
const EXCLUSIVE: [string[], string[]][] = [
  [
    ['tokens', 'estimatedTokens', 'actualTokens', 'tokensGenerated'],
    ['inputTokens', 'outputTokens'],
  ],
  [['expiryDays'], ['expiresAt']],
];
const ORDERED: [string, string][] = [
  ['effectiveFrom', 'effectiveTo'],
  ['startDate', 'endDate'],
];

function crossFieldRules(value: Record<string, unknown>, pickFirst: boolean): Record<string, unknown> {
  const out = { ...value };
  for (const [a, b] of EXCLUSIVE) {
    if (a.some((k) => k in out) && b.some((k) => k in out)) for (const k of pickFirst ? b : a) delete out[k];
  }
  // For records the split needs both halves (elsewhere a missing half counts 0).
  if ('inputTokens' in out !== 'outputTokens' in out)
    out.inputTokens = out.outputTokens = out.inputTokens ?? out.outputTokens;
  for (const [from, to] of ORDERED) {
    const x = out[from];
    const y = out[to];
    if (typeof x === 'string' && typeof y === 'string' && x > y) [out[from], out[to]] = [y, x];
  }
  return out;
}

function paramsArbitrary(params: Parameter[], ctxOf: (p: Parameter) => Ctx) {
  const entries = params.map((p) => [p.name, validValue(p.schema, ctxOf(p))] as const);
  const record = fc.record(Object.fromEntries(entries), {
    requiredKeys: params.filter((p) => p.required).map((p) => p.name),
  });
  return fc.tuple(record, fc.boolean()).map(([value, pickFirst]) => crossFieldRules(value, pickFirst));
}

function validBody(schema: Schema, op: FuzzOperation, doc: OpenApiDocument): fc.Arbitrary<BodySpec | undefined> {
  const body = validValue(schema, { op, doc, field: '', where: 'body' }).map((json): BodySpec => ({ json }));
  // An optional body may also be left out altogether (no Content-Type either).
  return op.op.requestBody?.required ? body : fc.option(body, { nil: undefined });
}

/**
 * Requests for one operation: about half valid in every part, the rest with one part made invalid
 * (a body field, a parameter, a header, an extra or repeated query parameter, the body's bytes or type).
 * `callers` are indices into the world's callers: those the access rule lets in, and all of them.
 */
export function requestArbitrary(
  op: FuzzOperation,
  doc: OpenApiDocument,
  callers: { permitted: number[]; all: number[] },
): fc.Arbitrary<FuzzRequest> {
  const params = (op.op.parameters ?? []).filter((p) => p.in !== 'cookie');
  const ctxOf = (p: Parameter): Ctx => ({ op, doc, field: p.name, where: p.in as Ctx['where'] });
  const bodySchema = op.op.requestBody?.content['application/json']?.schema;
  const caller = callers.permitted.length
    ? fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...callers.permitted) },
        { weight: 1, arbitrary: fc.constantFrom(...callers.all) },
      )
    : fc.constantFrom(...callers.all);
  const valid = fc
    .record({
      caller,
      path: paramsArbitrary(
        params.filter((p) => p.in === 'path'),
        ctxOf,
      ),
      query: paramsArbitrary(
        params.filter((p) => p.in === 'query'),
        ctxOf,
      ),
      headers: paramsArbitrary(
        params.filter((p) => p.in === 'header'),
        ctxOf,
      ),
      body: bodySchema ? validBody(bodySchema, op, doc) : fc.constant(undefined),
    })
    .map((r): FuzzRequest => ({
      ...r,
      valid: true,
      query: Object.entries(r.query),
    }));
  const invalid = fc
    .tuple(valid, mutationArbitrary(op, doc))
    .map(([req, m]) => ({ ...applyMutation(req, m), valid: false }));
  return fc.oneof(valid, invalid);
}

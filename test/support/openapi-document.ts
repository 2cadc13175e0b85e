import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

import { uniqueId } from './app.js';

/** The parts of the service's OpenAPI document the example and client tests read. */
export interface NamedExample {
  summary?: string;
  value: unknown;
}
export interface MediaType {
  schema?: Record<string, unknown>;
  examples?: Record<string, NamedExample>;
  example?: unknown;
}
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  example?: unknown;
  schema?: { format?: string; example?: unknown; type?: string };
}
export interface Operation {
  operationId: string;
  tags?: string[];
  parameters?: Parameter[];
  security?: Record<string, string[]>[];
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, { description?: string; content?: Record<string, MediaType> }>;
  'x-required-scope'?: string;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}
export interface Located {
  method: string;
  path: string;
  op: Operation;
  /** "recordUsage (POST /api/usage/record)", for messages. */
  name: string;
}

export function operationsOf(doc: OpenApiDocument): Located[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method,
      path,
      op,
      name: `${op.operationId} (${method.toUpperCase()} ${path})`,
    })),
  );
}

/** The one 2xx status an operation documents. */
export function successStatus(op: Operation): number {
  // A replay (recordUsage's repeated eventId: 200) is not what a first request answers.
  const statuses = Object.keys(op.responses).filter(
    (s) => s.startsWith('2') && !(op.responses[s].description ?? '').startsWith('Replayed'),
  );
  if (statuses.length !== 1) throw new Error(`${op.operationId} documents ${statuses.length} success statuses`);
  return Number(statuses[0]);
}

/** Validates bodies against the document's schemas ('#/components/schemas/…' refs resolve). */
export class SchemaValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly doc: OpenApiDocument) {
    // ajv-formats is CommonJS: its plugin is the module itself and also its `default`.
    const addFormats =
      (ajvFormats as unknown as { default?: (a: Ajv) => void }).default ?? (ajvFormats as unknown as (a: Ajv) => void);
    addFormats(this.ajv);
  }

  /** null when the value matches, else what does not. */
  problem(key: string, schema: Record<string, unknown>, value: unknown): string | null {
    let validate = this.cache.get(key);
    if (!validate) {
      validate = this.ajv.compile({ ...schema, components: this.doc.components });
      this.cache.set(key, validate);
    }
    return validate(value) ? null : this.ajv.errorsText(validate.errors);
  }
}

export type Body = Record<string, unknown>;

/** An operation's named request examples. */
export function requestExamples(located: Located): [string, NamedExample][] {
  const content = located.op.requestBody?.content;
  // A report route takes text/csv (its examples are strings, sent as such by the specs).
  return Object.entries((content?.['application/json'] ?? content?.['text/csv'])?.examples ?? {});
}

/** The named examples of one of its error statuses. */
export function errorExamples(located: Located, status: string): NamedExample[] {
  return Object.values(located.op.responses[status]?.content?.['application/json']?.examples ?? {});
}

/** Same status, reason, code and extra fields; the same message where it does not depend on input. */
export function sameError(example: Body, real: Body): boolean {
  const { requestId: _r, ...rest } = real;
  const keys = (o: Body) => Object.keys(o).sort().join();
  if (keys(example) !== keys(rest)) return false;
  if (example.statusCode !== real.statusCode || example.error !== real.error || example.code !== real.code)
    return false;
  if (Array.isArray(example.message) !== Array.isArray(real.message)) return false;
  const fixedMessage = [401, 402, 403, 404, 413, 415, 422, 429].includes(Number(real.statusCode));
  return !fixedMessage || example.message === real.message;
}

/** The example with every number one larger: the same request, other amounts. */
export function bumped(value: Body): Body {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'number' ? v + 1 : v]));
}

/** The example with a new sessionId where it names one (ids are single-use). */
export function freshIds(value: Body): Body {
  return typeof value === 'object' && 'sessionId' in value ? { ...value, sessionId: uniqueId('chat') } : value;
}

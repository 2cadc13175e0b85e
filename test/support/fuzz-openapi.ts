import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

import type { Role } from '../../src/auth/roles.js';

/** The parts of an OpenAPI 3.0 document the fuzz test reads. */
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

export interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

type Content = Record<string, { schema?: Schema }>;

export interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Content };
  responses: Record<string, { description?: string; content?: Content }>;
  security?: Record<string, string[]>[];
  'x-required-scope'?: string;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/**
 * Who the document says may call an operation: the security schemes it lists, the lowest role its 403
 * description names ("Requires role admin or higher"), and the API-key scope (`x-required-scope`).
 */
export interface AccessRule {
  public: boolean;
  /** Lowest JWT role; null: JWTs are not accepted. */
  jwtRole: Role | null;
  /** Scope an API key needs ('any' for every valid key); undefined: API keys are not accepted. */
  apiKeyScope?: string;
  internalKey: boolean;
}

export interface FuzzOperation {
  id: string;
  method: string;
  path: string;
  op: Operation;
  rule: AccessRule;
}

export function accessRule(op: Operation): AccessRule {
  const schemes = new Set((op.security ?? []).flatMap((s) => Object.keys(s)));
  if (schemes.size === 0) return { public: true, jwtRole: 'user', internalKey: false };
  const role = /role (user|supervisor|admin)\b/.exec(op.responses['403']?.description ?? '')?.[1] as Role | undefined;
  return {
    public: false,
    jwtRole: schemes.has('bearer') ? (role ?? 'user') : null,
    apiKeyScope: schemes.has('api-key') ? (op['x-required-scope'] ?? 'any') : undefined,
    internalKey: schemes.has('internal-api-key'),
  };
}

/**
 * Every operation of the document, or those FUZZ_OPERATION names (comma-separated; an operationId, the
 * part after its `_` such as `record`, or `POST /api/usage/record`; case-insensitive).
 */
export function operationsOf(doc: OpenApiDocument, only?: string): FuzzOperation[] {
  const wanted = (only ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const all = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ id: op.operationId, method, path, op, rule: accessRule(op) })),
  );
  if (wanted.length === 0) return all;
  return all.filter(({ id, method, path }) =>
    [id, id.split('_').pop() ?? '', `${method} ${path}`].some((name) => wanted.includes(name.toLowerCase())),
  );
}

/** Follows `$ref`s (and a single-member allOf) to the schema they name; returns the name too. */
export function resolveSchema(schema: Schema, doc: OpenApiDocument): { schema: Schema; name?: string } {
  let current = schema;
  let name: string | undefined;
  for (let i = 0; i < 10; i++) {
    if (current.$ref) {
      name = current.$ref.split('/').pop()!;
      current = doc.components.schemas[name];
    } else if (current.allOf?.length === 1) current = current.allOf[0];
    else break;
  }
  return { schema: current, name };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A broken promise of the document; `cause` groups findings of one root cause. */
export interface Problem {
  kind: string;
  cause: string;
  detail?: string;
}

const mediaType = (header: unknown) =>
  String(header ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();

/** Checks answers against what the document promises for the operation. */
export class ResponseChecker {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  /** `strict`: also flag properties a response schema does not list (drift between code and document). */
  constructor(
    doc: OpenApiDocument,
    private readonly strict = false,
  ) {
    // ajv-formats is CommonJS: its plugin is the module itself and also its `default`.
    const plugin = ajvFormats as unknown as { default?: (a: Ajv) => Ajv } & ((a: Ajv) => Ajv);
    (plugin.default ?? plugin)(this.ajv);
    // `$ref: '#/components/schemas/X'` resolves against this one registered document.
    this.ajv.addSchema({ $id: 'openapi', components: strict ? closed(doc.components) : doc.components });
  }

  check(operation: FuzzOperation, answer: Answer): Problem[] {
    const { status, headers, text } = answer;
    if (status >= 500) return [{ kind: '5xx', cause: `${status}`, detail: text.slice(0, 300) }];
    const documented = operation.op.responses[String(status)] ?? operation.op.responses.default;
    if (!documented) return [{ kind: 'undocumented status', cause: `${status} ${messageOf(text)}`.trim() }];
    const content = documented.content ?? {};
    const type = mediaType(headers['content-type']);
    if (text.length === 0) {
      return Object.keys(content).length === 0
        ? []
        : [{ kind: 'empty body', cause: `${status} documents ${Object.keys(content).join(', ')}` }];
    }
    if (!(type in content))
      return [
        {
          kind: 'undocumented content type',
          cause: `${status} ${type || '(none)'} (documented: ${Object.keys(content).join(', ') || 'no body'})`,
          detail: text.slice(0, 200),
        },
      ];
    if (!type.endsWith('json')) return [];
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [{ kind: 'body is not JSON', cause: `${status} ${type}`, detail: text.slice(0, 200) }];
    }
    const problems: Problem[] = [];
    const schema = content[type].schema;
    if (schema) {
      const validate = this.validator(`${operation.id} ${status} ${type}`, schema);
      if (!validate(body)) {
        // Array indices vary between answers; the paths and keywords are the cause.
        const errors = (validate.errors ?? []).map((e) =>
          `${e.instancePath.replace(/\/\d+/g, '/*')} ${e.message ?? e.keyword}`.trim(),
        );
        problems.push({
          kind: 'body does not match the schema',
          cause: `${status}: ${[...new Set(errors)].join('; ')}`,
        });
      }
    }
    if (status >= 400) {
      const statusCode = (body as { statusCode?: unknown } | null)?.statusCode;
      if (statusCode !== status)
        problems.push({ kind: 'error body statusCode differs', cause: `${status} vs ${statusCode}` });
      if (status === 429 && headers['retry-after'] === undefined)
        problems.push({ kind: '429 without Retry-After', cause: '429' });
    }
    return problems;
  }

  private validator(key: string, schema: Schema): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(withBase(this.strict ? closed(schema) : schema));
      this.validators.set(key, validate);
    }
    return validate;
  }
}

/** Points the schema's local refs at the registered document. */
function withBase(schema: Schema): object {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/')) as object;
}

/** A copy in which every object schema with listed properties allows no others. */
function closed<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema), (_key, value: unknown) => {
    const s = value as Schema | null;
    if (s && typeof s === 'object' && s.properties && s.additionalProperties === undefined)
      return { ...s, additionalProperties: false };
    return value;
  }) as T;
}

/** An error answer's message without the values in it: one cause, whatever the input. */
function messageOf(text: string): string {
  let message: unknown;
  try {
    message = (JSON.parse(text) as { message?: unknown }).message;
  } catch {
    message = text.slice(0, 100);
  }
  const words = Array.isArray(message) ? message.join('; ') : String(message ?? '');
  return words
    .replace(/'[^']*'/g, "'…'")
    .replace(/\d+/g, 'N')
    .slice(0, 160);
}

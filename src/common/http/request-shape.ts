import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/**
 * How deep a JSON body may nest. Real bodies (usage `metadata` included) stay far below it; a body of
 * thousands of nested arrays would otherwise overflow the stack in class-transformer (a 500).
 */
export const MAX_JSON_DEPTH = 32;

/** Keys that would reach object prototypes or vanish in a copy: at any depth of a body or a query. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** An error the exception filter answers with its own status and message. */
export class RequestShapeError extends Error {
  readonly expose = true;
  constructor(
    readonly status: 400 | 415,
    message: string,
  ) {
    super(message);
  }
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;
const FORM_TYPE = /^(?:application\/x-www-form-urlencoded|multipart\/form-data)\s*(?:;|$)/i;

/** Requests whose route takes a form body (formBody marked them). */
const formRequests = new WeakSet<Request>();

/**
 * Middleware for a route that mail clients POST a form to (RFC 8058's one-click unsubscribe sends
 * `List-Unsubscribe=One-Click` form-encoded, or as multipart): a form up to `limit` is accepted there
 * instead of JSON (a multipart body is not read: such a route needs nothing from its body).
 */
export function formBody(limit: string): RequestHandler {
  const parse = express.urlencoded({ extended: false, limit });
  return (req, res, next) => {
    formRequests.add(req);
    parse(req, res, next);
  };
}

export const CSV_TYPE = /^text\/csv\s*(?:;|$)/i;

/** Requests whose route takes a CSV body (deferCsvBody marked them). */
const csvRequests = new WeakSet<Request>();

/** Lets this request's `text/csv` body past the JSON-only rule (its route reads it itself). */
export function acceptCsv(req: Request): void {
  csvRequests.add(req);
}

/**
 * Before validation: a body must be JSON (415 otherwise); the query string must be well-formed
 * percent-encoding; a parsed body must not nest deeper than MAX_JSON_DEPTH, hold invalid UTF-16 (lone
 * surrogates, which break validators and PostgreSQL), NUL characters or prototype keys; query keys and
 * values likewise. Iterative, so no input can exhaust the stack.
 */
export function requestShape(req: Request, _res: Response, next: NextFunction): void {
  const type = req.headers['content-type'] ?? '';
  if (
    hasBody(req) &&
    !JSON_TYPE.test(type) &&
    !(formRequests.has(req) && FORM_TYPE.test(type)) &&
    !(csvRequests.has(req) && CSV_TYPE.test(type))
  ) {
    next(new RequestShapeError(415, 'Content-Type must be application/json'));
    return;
  }
  const problem =
    queryEncodingProblem(req.originalUrl) ??
    topLevelKeys(req.query) ??
    checkValue(req.query, 'query') ??
    bodyProblem(req.body);
  next(problem === undefined ? undefined : new RequestShapeError(400, problem));
}

/** What requestShape refuses in a parsed body (also for a body parsed later: src/common/http/deferred-body.ts). */
export function bodyProblem(body: unknown): string | undefined {
  return topLevelKeys(body) ?? checkValue(body, 'body');
}

/**
 * The query string's percent-encoding: every `%` starts a pair of hex digits, and the bytes they
 * spell are UTF-8 of Unicode scalar values. The query parser leaves a malformed escape (`%ZZ`,
 * `%u0041`) as it stands and turns invalid UTF-8 (`%ED%A0%80`, a surrogate) into U+FFFD, so a value
 * would silently differ from what the client sent: refused instead (decodeURIComponent throws on
 * exactly these).
 */
export function queryEncodingProblem(url: string): string | undefined {
  const start = url.indexOf('?');
  if (start < 0 || !url.includes('%', start)) return undefined;
  try {
    decodeURIComponent(url.slice(start + 1));
    return undefined;
  } catch {
    return 'query string is not valid percent-encoded UTF-8';
  }
}

/** `constructor` and friends are no DTO's property, but class-transformer/validator treat them as present. */
function topLevelKeys(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const key = Object.keys(value).find((k) => FORBIDDEN_KEYS.has(k));
  return key === undefined ? undefined : `property ${key} should not exist`;
}

/** Walks a parsed JSON value without recursion; returns the first problem found. */
export function checkValue(root: unknown, where: string): string | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return `${where} contains a string that is not valid UTF-16 (a lone surrogate)`;
      // PostgreSQL text and jsonb cannot hold NUL: refused here, so a streamed answer (CSV) never
      // starts before the database would refuse it.
      if (value.includes('\0')) return 'Text values must not contain NUL characters';
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return `${where} nests deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (!key.isWellFormed()) return `${where} contains a key that is not valid UTF-16 (a lone surrogate)`;
      // At any depth: a nested `__proto__` would reach the prototype, and class-transformer's copy of a
      // nested object drops `constructor` (and the app's copies `prototype`), so a unit, a tier or a
      // metadata key of those names would vanish silently from what the client sent.
      if (FORBIDDEN_KEYS.has(key)) return `${where} must not contain a ${key} key`;
      stack.push({ value: item, depth: depth + 1 });
    }
  }
  return undefined;
}

import type { OpenAPIObject } from '@nestjs/swagger';

import { type AccountRule, orgRoleRefusal } from '../auth/account-access.js';
import { ACCOUNT_ACCESS_EXTENSION, REQUIRED_SCOPE_EXTENSION } from '../auth/auth.decorator.js';
import {
  commonErrorExamples,
  domainErrorExample,
  type NamedExamples,
  plainErrorExample,
} from '../common/errors/error-examples.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

type PathItem = OpenAPIObject['paths'][string];
type OperationObject = NonNullable<PathItem['get']>;

/**
 * What every operation gets whatever its route says, so no route can forget it: the statuses the
 * whole service answers, the Idempotency-Key header on POST, an example per error status, an explicit
 * `security: []` on public routes, and `required` that lists only what a caller must send.
 */
export function applyDocumentRules(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths) as PathItem[]) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      withInputErrors(op);
      if (method === 'post') withIdempotencyHeader(op);
      op.security ??= [];
      withErrorExamples(op, method === 'post');
      withAccountAnswers(op);
    }
  }
  requiredWithoutDefaults(document);
  return document;
}

/**
 * The answers every operation can give whatever the route: 400 for a bad parameter (including bad
 * percent-encoding in the path, unknown or prototype-named query fields) or a malformed body, 413
 * (body over BODY_LIMIT) and 415 (body not JSON) for any request that carries a body (also one sent
 * to an operation that takes none), and 503 when the database is unavailable.
 */
function withInputErrors(op: OperationObject): void {
  addErrorResponse(op, '400', 'Invalid input (parameters, query fields or body)', false);
  if (!(op.tags ?? []).includes('health'))
    addErrorResponse(
      op,
      '503',
      'The database is unavailable: `code` DATABASE_UNAVAILABLE (nothing changed; retry) or OUTCOME_UNKNOWN ' +
        '(the change may have committed; retry with the same Idempotency-Key to learn the outcome)',
      false,
    );
  addErrorResponse(op, '413', 'Request body too large (BODY_LIMIT)', false);
  addErrorResponse(op, '415', 'A body that is not JSON (Content-Type must be application/json)', false);
}

/** Every POST accepts the optional Idempotency-Key header (its interceptor is on every POST route: IdempotentPost). */
function withIdempotencyHeader(post: OperationObject): void {
  post.parameters = [
    ...(post.parameters ?? []),
    {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Optional, 1–255 characters. The same caller, key and body within 24 h replays the first successful ' +
        'response (header `Idempotent-Replayed: true`) without repeating the effect; another body → 422; ' +
        'the same key still in progress → 409.',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    },
  ];
  // The interceptor's own answers are error responses of every POST too.
  addErrorResponse(post, '409', 'A request with this Idempotency-Key is still in progress');
  addErrorResponse(post, '422', 'This Idempotency-Key was already used with a different request');
}

const ERROR_SCHEMA = { $ref: '#/components/schemas/ErrorResponseDto' };

/**
 * Adds the response, or (with `append`) appends the reason to the route's own response with that
 * status; without `append` an existing response is left as the route wrote it.
 */
function addErrorResponse(op: OperationObject, status: string, description: string, append = true): void {
  const existing = op.responses[status] as { description?: string } | undefined;
  if (existing) {
    if (!append) return;
    existing.description = existing.description ? `${existing.description}; or: ${description}` : description;
    return;
  }
  op.responses[status] = { description, content: { 'application/json': { schema: ERROR_SCHEMA } } };
}

/**
 * A route naming an account answers what the access rule answers (src/auth/account-access.ts): 404
 * to a caller who may not see the account, 403 `Requires role …` to one who sees it below the role.
 */
function withAccountAnswers(op: OperationObject): void {
  const rule = (op as unknown as Record<string, unknown>)[ACCOUNT_ACCESS_EXTENSION] as
    (AccountRule & { staff: string }) | undefined;
  if (!rule) return;
  addErrorResponse(op, '404', 'An account the caller may not see (as one that does not exist)');
  const notFound = {
    ...(rule.user
      ? { userNotVisible: domainErrorExample('NOT_FOUND', 'User not found', 'Another user’s account') }
      : {}),
    ...(rule.org
      ? { orgNotVisible: domainErrorExample('NOT_FOUND', 'Org not found', 'An org the caller is not a member of') }
      : {}),
  };
  addExamples(op, '404', notFound);
  if ((rule.org === 'reader' || rule.org === 'manager') && rule.what)
    addExamples(op, '403', {
      accountOrgRole: domainErrorExample(
        'FORBIDDEN',
        orgRoleRefusal(rule.org, rule.what),
        'A member whose org role is too low',
      ),
    });
  if (rule.user === 'staff' || rule.org === 'staff' || rule.staff === 'admin')
    addExamples(op, '403', {
      accountRole: plainErrorExample(403, `Requires role ${rule.staff}`, `Sees the account, below role ${rule.staff}`),
    });
}

/** Adds named examples to an error response's JSON body, beside the route's own. */
function addExamples(op: OperationObject, status: string, examples: NamedExamples): void {
  const response = op.responses[status] as { content?: Record<string, { examples?: NamedExamples }> } | undefined;
  const media = response?.content?.['application/json'];
  if (!media) return;
  media.examples = { ...(media.examples ?? {}), ...examples };
}

/** Statuses whose route-specific examples replace the common ones rather than join them. */
const ROUTE_OWNS = new Set([401, 403]);

/**
 * Each error status gets named examples of its real bodies: the route's own (declared with its
 * response decorator) and the service-wide ones for that status.
 */
function withErrorExamples(op: OperationObject, post: boolean): void {
  const scope = (op as unknown as Record<string, unknown>)[REQUIRED_SCOPE_EXTENSION] as string | undefined;
  for (const [status, response] of Object.entries(op.responses)) {
    const code = Number(status);
    if (!(code >= 400)) continue;
    type Media = { examples?: NamedExamples; example?: unknown; schema?: { $ref?: string } };
    const content = (response as { content?: Record<string, Media> }).content;
    // Errors are JSON whatever the route produces (@ApiProduces('text/csv') labels them text/csv).
    if (content && !content['application/json']) {
      const [type, other] = Object.entries(content)[0] ?? [];
      if (type && other?.schema?.$ref) {
        delete content[type];
        content['application/json'] = other;
      }
    }
    const media = content?.['application/json'];
    // Only the error bodies of the exception filter (schemas derived from ErrorResponseDto, all refs).
    if (!media?.schema?.$ref) continue;
    const own = media.examples ?? {};
    const role = /role (\w+)/.exec((response as { description?: string }).description ?? '')?.[1];
    const common =
      ROUTE_OWNS.has(code) && Object.keys(own).length
        ? {}
        : commonErrorExamples(code, { post, scope: scope === 'any' ? undefined : scope, role });
    delete media.example;
    media.examples = { ...own, ...common };
  }
}

/**
 * A property with a default is one the caller may leave out: never in `required`, whatever the
 * decorator said (generated clients would otherwise demand it).
 */
function requiredWithoutDefaults(document: OpenAPIObject): void {
  for (const schema of Object.values(document.components?.schemas ?? {})) {
    const s = schema as { required?: string[]; properties?: Record<string, { default?: unknown }> };
    if (!s.required || !s.properties) continue;
    s.required = s.required.filter((name) => s.properties?.[name]?.default === undefined);
    if (s.required.length === 0) delete s.required;
  }
}

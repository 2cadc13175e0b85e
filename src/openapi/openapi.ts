import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

import { API_KEY_SCHEME, BEARER_SCHEME, INTERNAL_API_KEY_SCHEME } from '../auth/auth.decorator.js';

export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Accounting service')
    .setDescription(
      'Credits, usage, streaming holds, API keys and pricing for the LLM chat platform. ' +
        'Authenticate with a JWT from the authentication service (Bearer) or an API key (X-API-Key).',
    )
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_SCHEME)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, API_KEY_SCHEME)
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-Internal-Api-Key',
        description: 'Service-to-service key (INTERNAL_API_KEY); only POST /api/api-keys/verify',
      },
      INTERNAL_API_KEY_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  withInputErrors(document);
  return withIdempotencyHeader(document);
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * The answers every operation can give whatever the route: 400 for a bad parameter (including bad
 * percent-encoding in the path, unknown or prototype-named query fields) or a malformed body, 413
 * (body over BODY_LIMIT) and 415 (body not JSON) for any request that carries a body (also one sent
 * to an operation that takes none), and 503 when the database is unavailable. Added here so no route
 * can forget them.
 */
function withInputErrors(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      op.responses = op.responses ?? {};
      addErrorResponse(op.responses, '400', 'Invalid input (parameters, query fields or body)', false);
      if (!(op.tags ?? []).includes('health'))
        addErrorResponse(
          op.responses,
          '503',
          'The database is unavailable: `code` DATABASE_UNAVAILABLE (nothing changed; retry) or OUTCOME_UNKNOWN ' +
            '(the change may have committed; retry with the same Idempotency-Key to learn the outcome)',
          false,
        );
      addErrorResponse(op.responses, '413', 'Request body too large (BODY_LIMIT)', false);
      addErrorResponse(op.responses, '415', 'A body that is not JSON (Content-Type must be application/json)', false);
    }
  }
}

/** Every POST accepts the optional Idempotency-Key header (applied by a global interceptor). */
function withIdempotencyHeader(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    const post = item.post;
    if (!post) continue;
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
    post.responses = post.responses ?? {};
    addErrorResponse(post.responses, '409', 'A request with this Idempotency-Key is still in progress');
    addErrorResponse(post.responses, '422', 'This Idempotency-Key was already used with a different request');
  }
  return document;
}

const ERROR_SCHEMA = { $ref: '#/components/schemas/ErrorResponseDto' };

/**
 * Adds the response, or (with `append`) appends the reason to the route's own response with that
 * status; without `append` an existing response is left as the route wrote it.
 */
function addErrorResponse(
  responses: Record<string, unknown>,
  status: string,
  description: string,
  append = true,
): void {
  const existing = responses[status] as { description?: string } | undefined;
  if (existing) {
    if (!append) return;
    existing.description = existing.description ? `${existing.description}; or: ${description}` : description;
    return;
  }
  responses[status] = { description, content: { 'application/json': { schema: ERROR_SCHEMA } } };
}

/** Swagger UI at /api/docs, the OpenAPI document at /api/docs-json. */
export function setupSwagger(app: INestApplication, version: string): void {
  const document = buildOpenApiDocument(app, version);
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/docs-json',
    yamlDocumentUrl: 'api/docs-yaml',
    swaggerOptions: { persistAuthorization: true },
  });
}

import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';

import { API_KEY_SCHEME, BEARER_SCHEME, INTERNAL_API_KEY_SCHEME } from '../auth/auth.decorator.js';
import { applyDocumentRules } from './document-rules.js';

/** Every tag with the sentence Swagger UI and generated clients show for it. */
const TAGS: Record<string, string> = {
  health: 'Liveness and readiness probes (no authentication)',
  users: 'The calling account, and account search for supervisors',
  pricing: 'Per-model prices in credits per 1,000 tokens; rules with effective dates',
  credits: 'Balances, expiring allocations, the ledger, and price checks',
  usage: 'Metered usage: record (debits credits), statistics, record lists and CSV export',
  'streaming-sessions': 'Two-phase charging for streamed replies: hold, then finalize or abort',
  'api-keys': 'API keys that act as their owner with limited scopes',
  audit: 'The audit log: every change made by a supervisor, an admin or a service key',
};

export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Accounting service')
    .setDescription(
      'Credits, usage, streaming holds, API keys and pricing for the LLM chat platform. ' +
        'Authenticate with a JWT from the authentication service (Bearer) or an API key (X-API-Key). ' +
        'Every error answers `{statusCode, message, error, code?}`; `code` is stable (docs/errors.md).',
    )
    .setVersion(version)
    .addServer('/', 'This service (the host that serves this document)')
    // Bearer first: Swagger UI's Authorize dialog lists the schemes in this order.
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token (`npm run token`)' },
      BEARER_SCHEME,
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key (POST /api/api-keys)' },
      API_KEY_SCHEME,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-Internal-Api-Key',
        description: 'Service-to-service key (INTERNAL_API_KEY); only POST /api/api-keys/verify',
      },
      INTERNAL_API_KEY_SCHEME,
    );
  for (const [name, description] of Object.entries(TAGS)) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build());
  // Not open source (package.json: UNLICENSED): the url is relative, to the repository README's section.
  document.info.license = { name: 'Proprietary (UNLICENSED)', url: 'README.md#license' };
  return applyDocumentRules(document);
}

/**
 * Swagger UI's Content-Security-Policy: its page, scripts and styles come from this service (its
 * inline `<style>` blocks and style attributes need 'unsafe-inline' for styles, never for scripts),
 * its pictures are data: URLs, and "Try it out" calls this service only.
 */
export const SWAGGER_UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SWAGGER_UI_PATH = '/api/docs';

/**
 * Swagger UI at /api/docs (when `uiEnabled`: SWAGGER_ENABLED, off by default in production), with a
 * CSP of its own; the OpenAPI document at /api/docs-json (and -yaml) always. The token typed into
 * "Authorize" stays in the page's memory: never in the browser's storage, where any script of the
 * origin (or anyone at the machine later) could read it.
 */
export function setupSwagger(app: INestApplication, version: string, uiEnabled = true): void {
  const document = buildOpenApiDocument(app, version);
  if (uiEnabled) {
    app.use(SWAGGER_UI_PATH, (_req: Request, res: Response, next: NextFunction) => {
      res.setHeader('Content-Security-Policy', SWAGGER_UI_CSP);
      next();
    });
  }
  SwaggerModule.setup(SWAGGER_UI_PATH.slice(1), app, document, {
    ui: uiEnabled,
    jsonDocumentUrl: 'api/docs-json',
    yamlDocumentUrl: 'api/docs-yaml',
    swaggerOptions: { persistAuthorization: false, displayOperationId: true, tryItOutEnabled: false },
  });
}

import 'reflect-metadata';

import { readFileSync, writeFileSync } from 'node:fs';

import { NestFactory } from '@nestjs/core';

import { AppModule } from './app.module.js';
import { buildOpenApiDocument } from './openapi/openapi.js';

/**
 * Writes the OpenAPI document to a file (default `openapi.json`) without a database: Nest's preview
 * mode registers the controllers' metadata but instantiates no provider, so nothing connects.
 * `npm run openapi:export` runs it; the committed snapshot is what reviewers diff and what the
 * TypeScript client is generated from.
 */
async function main(): Promise<void> {
  const target = process.argv[2] ?? 'openapi.json';
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const app = await NestFactory.create(AppModule.forRoot(), { preview: true, logger: false, abortOnError: false });
  const document = buildOpenApiDocument(app, version);
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  await app.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`OpenAPI export failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';
import { Fixtures } from './support/fixtures.js';
import { type OpenApiDocument, operationsOf } from './support/openapi-document.js';

/** The media type each value of a `format` query parameter answers. */
const MEDIA: Record<string, string> = { json: 'application/json', csv: 'text/csv', pdf: 'application/pdf' };

/**
 * A route that answers another media type on `format=` lists it in its 200 (clients are generated
 * from the document: a type it does not list is one their parsers refuse), and what the route
 * answers is what it lists.
 */
describe('OpenAPI: the media types a `format` answers are documented', () => {
  let t: TestApp;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    t = await startTestApp();
    doc = (await t.http.get('/api/docs-json').expect(200)).body as OpenApiDocument;
  });
  afterAll(() => t?.close());

  it('lists, for every operation with a `format` parameter, each value’s media type in its 200', () => {
    const missing: string[] = [];
    let formats = 0;
    for (const { name, op } of operationsOf(doc)) {
      const format = op.parameters?.find((p) => p.in === 'query' && p.name === 'format');
      if (!format) continue;
      const values = (format.schema as { enum?: string[] } | undefined)?.enum ?? [];
      const listed = Object.keys(op.responses['200']?.content ?? {});
      for (const value of values) {
        formats++;
        if (!listed.includes(MEDIA[value])) missing.push(`${name}: format=${value} answers ${MEDIA[value]}`);
      }
    }
    expect(missing).toEqual([]);
    expect(formats).toBeGreaterThan(10);
  });

  it('answers GET /api/usage/records?format=csv with the text/csv it documents, a string', async () => {
    const f = new Fixtures(t, { prefix: 'ofmt' });
    const u = await f.newUser({ credits: 10 });
    await t.http
      .post('/api/usage/record')
      .set(u.auth)
      .send({ service: 'chat', operation: 'x', credits: 1 })
      .expect(201);
    const res = await t.http.get('/api/usage/records').query({ format: 'csv' }).set(u.auth).expect(200);
    const media = String(res.headers['content-type']).split(';')[0];
    expect(media).toBe('text/csv');
    const documented = doc.paths['/api/usage/records'].get.responses['200'].content ?? {};
    expect(documented[media]?.schema).toMatchObject({ type: 'string' });
    expect(documented['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/UsageRecordListResponseDto',
    });
  });
});

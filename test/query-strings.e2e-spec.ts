import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { tokenFor } from './support/fixtures.js';
import { BAD_ESCAPES } from './support/openapi-arbitraries.js';

/**
 * "Query parameters: numbers are plain decimals (`limit=0x10`, `limit= 5` → 400); malformed
 * percent-encoding → 400", on every route. The URLs here are sent as written (raw escapes).
 */
interface Operation {
  parameters?: { name: string; in: string; schema?: { type?: string; minimum?: number; maximum?: number } }[];
}
type Document = { paths: Record<string, Record<string, Operation>> };

/** Integer forms Number() reads but a client would not mean; each in range of every integer query field. */
const NOT_DECIMAL = ['0x10', '%205', '+5', '%2B5', '0b1', '0o7', '1e2', '5.0', '%09', '5%20', ''];

let t: TestApp;
let doc: Document;
const admin = bearer(tokenFor('admin', 'query-admin'));

beforeAll(async () => {
  t = await startTestApp();
  doc = (await t.http.get('/api/docs-json').expect(200)).body as Document;
});
afterAll(() => t?.close());

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ method: method as 'get', path, op })),
  );
/** The path with every parameter filled in (the query checks come before anything reads them). */
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');

describe('integer query parameters are plain decimals', () => {
  it('every integer query field of the document refuses the other forms with a 400 naming it', async () => {
    const fields = operations().flatMap(({ method, path, op }) =>
      (op.parameters ?? [])
        .filter((p) => p.in === 'query' && p.schema?.type === 'integer')
        .map((p) => ({ method, path, name: p.name })),
    );
    expect(fields.map((f) => f.name)).toEqual(expect.arrayContaining(['limit', 'topUsers']));
    const accepted: string[] = [];
    for (const { method, path, name } of fields) {
      for (const form of NOT_DECIMAL) {
        const url = `${concrete(path)}?${name}=${form}`;
        const res = await t.http[method](url).set(admin);
        if (res.status !== 400 || !JSON.stringify(res.body.message).includes(name))
          accepted.push(`${method.toUpperCase()} ${url} → ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('plain decimals still work', async () => {
    const res = await t.http.get('/api/credits/ledger?limit=5').set(admin).expect(200);
    expect(Array.isArray(res.body.items)).toBe(true);
    await t.http.get('/api/usage/system-stats?topUsers=007').set(admin).expect(200);
  });
});

describe('malformed percent-encoding in a query string is a 400 on every route', () => {
  it('every operation of the document, and the routes outside it, refuse it before anything else', async () => {
    const routes = [
      ...operations().map(({ method, path }) => ({ method, path: concrete(path) })),
      ...['/metrics', '/health', '/api/health', '/api/health/ready', '/api/docs-json', '/no-such-route'].map(
        (path) => ({ method: 'get' as const, path }),
      ),
    ];
    const accepted: string[] = [];
    for (const { method, path } of routes) {
      for (const escape of BAD_ESCAPES) {
        // In a value and in a key; with and without credentials (it is refused before authentication).
        for (const [query, auth] of [
          [`x=${escape}`, admin],
          [`${escape}=1`, {}],
        ] as const) {
          const res = await t.http[method](`${path}?${query}`).set(auth);
          if (res.status !== 400 || res.body.message !== 'query string is not valid percent-encoded UTF-8')
            accepted.push(`${method.toUpperCase()} ${path}?${query} → ${res.status}`);
        }
      }
    }
    expect(accepted).toEqual([]);
  });

  it('well-formed escapes, UTF-8 included, are read as before', async () => {
    const res = await t.http.get('/api/usage/records?service=%E2%82%AC%F0%9F%98%80&limit=%35').set(admin).expect(200);
    expect(res.body.items).toEqual([]);
  });
});

import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SWAGGER_UI_CSP } from '../src/openapi/openapi.js';
import { startTestApp, type TestApp } from './support/app.js';

/**
 * Swagger UI is public in development and test, off in production unless SWAGGER_ENABLED=true, and
 * always under a Content-Security-Policy of its own; the OpenAPI document stays public everywhere.
 * Before: Swagger UI was public in production, with no CSP, and kept the token in localStorage
 * (test/swagger-ui.e2e-spec.ts checks the browser side). And the console's pages asked for
 * /favicon.ico and got a 404 on every page.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('Swagger UI: where it is served', () => {
  const apps: TestApp[] = [];
  // The harness allows private webhook URLs, which production refuses: these apps send no webhooks.
  const start = async (env: Record<string, string>) => {
    const t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_URLS: 'false', ...env });
    apps.push(t);
    return t;
  };
  afterAll(async () => {
    for (const t of apps) await t.close();
  });

  it('in production, by default: no Swagger UI (404), the OpenAPI document still public', async () => {
    const t = await start({ NODE_ENV: 'production' });
    expect((await t.http.get('/api/docs')).status).toBe(404);
    expect((await t.http.get('/api/docs/')).status).toBe(404);
    expect((await t.http.get('/api/docs/swagger-ui-init.js')).status).toBe(404);
    const json = await t.http.get('/api/docs-json');
    expect(json.status).toBe(200);
    expect(json.body.openapi).toMatch(/^3\./);
  });

  it('in production with SWAGGER_ENABLED=true, and by default elsewhere: served with its own CSP and no persisted token', async () => {
    for (const env of [{ NODE_ENV: 'production', SWAGGER_ENABLED: 'true' }, { NODE_ENV: 'test' }] as Array<
      Record<string, string>
    >) {
      const t = await start(env);
      const page = await t.http.get('/api/docs/');
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toBe(SWAGGER_UI_CSP);
      expect(SWAGGER_UI_CSP).toMatch(/script-src 'self'(;|$)/); // no inline or eval'd scripts
      const init = await t.http.get('/api/docs/swagger-ui-init.js');
      expect(init.status).toBe(200);
      expect(init.headers['content-security-policy']).toBe(SWAGGER_UI_CSP);
      expect(init.text).toMatch(/"persistAuthorization": false/);
      expect((await t.http.get('/api/docs-json')).status).toBe(200);
    }
  });

  it('SWAGGER_ENABLED=false turns it off in development too; a value that is not a boolean stops start-up', async () => {
    const t = await start({ NODE_ENV: 'test', SWAGGER_ENABLED: 'false' });
    expect((await t.http.get('/api/docs/')).status).toBe(404);
    expect((await t.http.get('/api/docs-json')).status).toBe(200);
    await expect(startTestApp({ SWAGGER_ENABLED: 'sometimes' })).rejects.toThrow(/SWAGGER_ENABLED/);
  });
});

describe('the favicon', () => {
  let t: TestApp;
  let consoleDir: string;
  let icon: Buffer;
  beforeAll(async () => {
    // A console build as vite makes it: index.html, and public/'s favicon.ico copied next to it.
    consoleDir = await mkdtemp(path.join(tmpdir(), 'console-build-'));
    await writeFile(path.join(consoleDir, 'index.html'), '<!doctype html><title>console</title>');
    await copyFile(path.join(ROOT, 'console/public/favicon.ico'), path.join(consoleDir, 'favicon.ico'));
    icon = await readFile(path.join(consoleDir, 'favicon.ico'));
    t = await startTestApp({ CONSOLE_DIR: consoleDir });
  });
  afterAll(async () => {
    await t?.close();
    await rm(consoleDir, { recursive: true, force: true });
  });

  it('is a real icon (ICO with 16 and 32 pixel images), linked from the console page', async () => {
    expect(icon.readUInt16LE(0)).toBe(0); // reserved
    expect(icon.readUInt16LE(2)).toBe(1); // type: icon
    expect(icon.readUInt16LE(4)).toBe(2); // images
    expect([icon[6], icon[22]]).toEqual([16, 32]);
    const html = await readFile(path.join(ROOT, 'console/index.html'), 'utf8');
    expect(html).toMatch(/<link rel="icon" href="\/favicon\.ico"/); // vite makes it /admin/favicon.ico
  });

  it('answers at /favicon.ico and /admin/favicon.ico, where browsers ask for it', async () => {
    for (const at of ['/favicon.ico', '/admin/favicon.ico']) {
      const res = await t.http
        .get(at)
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        });
      expect({ at, status: res.status, type: res.headers['content-type'] }).toEqual({
        at,
        status: 200,
        type: expect.stringMatching(/^image\/(x-icon|vnd\.microsoft\.icon)$/),
      });
      expect(Buffer.compare(res.body as Buffer, icon)).toBe(0);
    }
    expect((await t.http.post('/favicon.ico')).status).toBe(404);
  });
});

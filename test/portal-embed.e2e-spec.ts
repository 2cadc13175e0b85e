import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { launchChromium } from './support/chromium.js';
import { buildPortal, chromiumAvailable, openPage, PORTAL_SHOTS, saveShot } from './support/portal-browser.js';

/**
 * The embeddable elements on a page of another origin: one listed in PORTAL_ALLOWED_ORIGINS shows
 * both with live figures and may frame the portal; an origin not listed gets nothing (the module is
 * refused by CORS, the frame by frame-ancestors).
 */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });
let t: TestApp;
let browser: Browser;
let baseUrl: string;
let portalDir: string;
const pages: Server[] = [];
let allowedOrigin: string;
let otherOrigin: string;
const userId = uniqueId('peuser');
const admin = bearer(token({ sub: uniqueId('peadmin'), role: 'admin' }));

/** A page server on its own 127.0.0.1 port: another origin, serving whatever HTML it is asked for. */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const html = new Map<string, string>();
  const server = createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(html.get(req.url ?? '/') ?? '<!doctype html><title>empty</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pages.push(server);
  Object.assign(server, { html });
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const hostPage = (portalToken: string) => `<!doctype html>
<html lang="en"><head><title>Platform page</title>
<script type="module" src="${baseUrl}/portal/embed.js"></script></head>
<body><h1>My platform</h1>
<credits-balance token="${portalToken}" base-url="${baseUrl}"></credits-balance>
<credits-usage-chart token="${portalToken}" base-url="${baseUrl}"></credits-usage-chart>
<iframe title="Portal" src="${baseUrl}/portal#token=${portalToken}" width="800" height="400"></iframe>
</body></html>`;

function serve(server: Server, path: string, body: string): void {
  (server as unknown as { html: Map<string, string> }).html.set(path, body);
}

describe.skipIf(!chromiumAvailable)('The embeddable elements on another origin', () => {
  let allowed: Server;
  let other: Server;
  beforeAll(async () => {
    portalDir = await buildPortal();
    ({ server: allowed, origin: allowedOrigin } = await pageServer());
    ({ server: other, origin: otherOrigin } = await pageServer());
    t = await startTestApp({ PORTAL_DIR: portalDir, PORTAL_ALLOWED_ORIGINS: allowedOrigin });
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId })))
      .expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ userId, credits: 4321, expiryDays: 20 }).expect(201);
    await t.http
      .post('/api/usage/record')
      .set(bearer(token({ sub: userId })))
      .send({ service: 'chat', operation: 'reply', credits: 21 })
      .expect(201);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    for (const server of pages) server.close();
    await t?.close();
    if (portalDir) rmSync(portalDir, { recursive: true, force: true });
  });

  it('a listed origin shows both elements with live figures and frames the portal', async () => {
    const session = (await t.http.post('/api/portal/sessions').set(admin).send({ userId }).expect(201)).body;
    serve(allowed, '/', hostPage(session.token));
    const { page, context, errors } = await openPage(browser, { width: 1280, scheme: 'light' });
    await page.goto(`${allowedOrigin}/`);
    const balance = (await t.http.get('/api/credits/balance').set(bearer(session.token)).expect(200)).body;
    const available = page.locator('credits-balance [data-figure="available"]');
    await poll(() => available.textContent()).toBe(new Intl.NumberFormat('en-US').format(balance.totalCredits));
    const summary = page.locator('credits-usage-chart [data-figure="summary"]');
    await poll(() => summary.textContent()).toContain('21 credits in all');
    // Live: a new record shows once the element reads again (its token attribute set anew).
    await t.http
      .post('/api/usage/record')
      .set(bearer(token({ sub: userId })))
      .send({ service: 'chat', operation: 'reply', credits: 4 })
      .expect(201);
    await page.evaluate((tk) => {
      for (const el of document.querySelectorAll('credits-balance, credits-usage-chart')) el.setAttribute('token', tk);
    }, session.token + '');
    await poll(() => available.textContent()).toBe(new Intl.NumberFormat('en-US').format(balance.totalCredits - 4));
    await poll(() => summary.textContent()).toContain('25 credits in all');
    const frame = page.frameLocator('iframe');
    await poll(() => frame.getByRole('tab', { name: 'Balance' }).isVisible()).toBe(true);
    await saveShot(page, join(PORTAL_SHOTS, 'embed-allowed-1280-light.png'));
    expect(errors).toEqual([]);
    await context.close();
  });

  it('an origin not listed gets nothing: the module refused by CORS, the frame refused', async () => {
    const session = (await t.http.post('/api/portal/sessions').set(admin).send({ userId }).expect(201)).body;
    serve(other, '/', hostPage(session.token));
    const { page, context, errors } = await openPage(browser, { width: 1280, scheme: 'dark' });
    await page.goto(`${otherOrigin}/`);
    await poll(() => errors.some((e) => /CORS|Access-Control-Allow-Origin/.test(e))).toBe(true);
    await poll(() => errors.some((e) => /frame-ancestors|Refused to frame/.test(e))).toBe(true);
    expect(await page.evaluate(() => customElements.get('credits-balance') === undefined)).toBe(true);
    expect(await page.locator('credits-balance').evaluate((el) => el.shadowRoot)).toBeNull();
    const framed = page.frames().find((f) => f !== page.mainFrame());
    expect(await framed?.locator('[role="tab"]').count()).toBe(0);
    // Nor may its scripts call the API with the token (CORS refuses the preflight).
    const status = await page.evaluate(
      async ([url, tk]) =>
        fetch(`${url}/api/credits/balance`, { headers: { Authorization: `Bearer ${tk}` } }).then(
          (r) => r.status,
          () => 'refused',
        ),
      [baseUrl, session.token],
    );
    expect(status).toBe('refused');
    await saveShot(page, join(PORTAL_SHOTS, 'embed-refused-1280-dark.png'));
    await context.close();
  });
});

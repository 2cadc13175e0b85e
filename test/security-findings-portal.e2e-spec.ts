import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { launchChromium } from './support/chromium.js';
import {
  buildPortal,
  CHROMIUM,
  chromiumAvailable,
  openPage,
  saveShot,
  seriousViolations,
} from './support/portal-browser.js';

/**
 * W10: the portal took any `#token=` over the session it held, so a page of someone else's could
 * send a person to the portal in the sender's session (whatever they did next landing in the
 * sender's account). Now a different token waits for the person's answer in a dialog, and the Buy
 * link names the package and the session's own account only (the one the person agreed to).
 * Screenshots: /tmp/security-*.png.
 */
if (!chromiumAvailable) console.warn(`portal browser test skipped: no Chromium at ${CHROMIUM}`);
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });
const BUY = 'https://app.example/checkout?src=portal';

describe.skipIf(!chromiumAvailable)('W10: the portal never replaces its session from a link without asking', () => {
  let t: TestApp;
  let chrome: Browser;
  let dir: string;
  let base: string;
  const admin = bearer(token({ sub: uniqueId('w10admin'), role: 'admin' }));
  const victim = uniqueId('w10victim');
  const sender = uniqueId('w10sender');
  const packageId = uniqueId('w10-pack').toLowerCase();

  const mint = async (userId: string) =>
    (await t.http.post('/api/portal/sessions').set(admin).send({ userId }).expect(201)).body.token as string;

  beforeAll(async () => {
    dir = await buildPortal();
    t = await startTestApp({ PORTAL_DIR: dir, PORTAL_BUY_URL: BUY });
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    await t.http.get('/api/users/me').set(admin).expect(200);
    for (const sub of [victim, sender])
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub })))
        .expect(200);
    await t.http
      .post('/api/packages')
      .set(admin)
      // Named after its id: other files' packages are on sale in the same price book.
      .send({ packageId, name: `Starter ${packageId}`, credits: 1000, price: { amount: '9.00', currency: 'eur' } })
      .expect(201);
    chrome = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await chrome?.close();
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('asks before a link’s token replaces the one held; Keep sends nothing with it, Switch takes it', async () => {
    const mine = await mint(victim);
    const theirs = await mint(sender);
    const { page, context, errors } = await openPage(chrome, { width: 1280, scheme: 'light' });
    const sentWith = new Set<string>();
    page.on('request', (r) => {
      const auth = r.headers().authorization;
      if (auth) sentWith.add(auth.replace(/^Bearer /, ''));
    });
    await page.goto(`${base}/portal#token=${mine}`);
    await poll(() => page.getByText(victim).count()).toBeGreaterThan(0);

    // A link followed in the same tab (only the fragment changes).
    await page.goto(`${base}/portal#token=${theirs}`);
    const dialog = page.getByRole('dialog', { name: 'Open a different session?' });
    await poll(() => dialog.isVisible()).toBe(true);
    expect(page.url()).not.toContain('token=');
    await saveShot(page, '/tmp/security-portal-switch-dialog.png', { fullPage: false });
    expect(await seriousViolations(page)).toEqual([]);
    // The focus starts on the safe answer; Escape keeps the session held as well.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Keep my session');
    await page.keyboard.press('Escape');
    await poll(() => dialog.count()).toBe(0);
    await poll(() => page.getByText(victim).count()).toBeGreaterThan(0);
    expect(await page.getByText(sender).count()).toBe(0);
    expect(sentWith.has(theirs)).toBe(false);

    // A fresh load of a link in the tab: asked again; Keep, then the next time Switch.
    await page.goto(`${base}/portal?tab=balance#token=${theirs}`);
    await poll(() => dialog.isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Keep my session' }).click();
    await poll(() => page.getByText(victim).count()).toBeGreaterThan(0);
    expect(sentWith.has(theirs)).toBe(false);

    await page.goto(`${base}/portal?tab=balance#token=${theirs}`);
    await page.getByRole('button', { name: 'Switch to the link’s session' }).click();
    await poll(() => page.getByText(sender).count()).toBeGreaterThan(0);
    expect(sentWith.has(theirs)).toBe(true);
    await saveShot(page, '/tmp/security-portal-switched.png', { fullPage: false });

    // The link with the token already held opens without a question.
    await page.goto(`${base}/portal?tab=keys#token=${theirs}`);
    await poll(() => page.getByText(sender).count()).toBeGreaterThan(0);
    expect(await dialog.count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('a tab without a session opens the link directly; the Buy link names the session’s user only', async () => {
    const mine = await mint(victim);
    const { page, context, errors } = await openPage(chrome, { width: 375, scheme: 'dark' });
    await page.goto(`${base}/portal?tab=purchases#token=${mine}`);
    const link = page.getByRole('link', { name: new RegExp(`^Buy credits: Starter ${packageId}`) });
    await poll(() => link.count()).toBe(1);
    expect(await page.getByRole('dialog').count()).toBe(0);
    const href = new URL((await link.getAttribute('href'))!);
    expect(Object.fromEntries(href.searchParams)).toEqual({ src: 'portal', userId: victim, packageId });
    expect(href.href).not.toContain(sender);
    await saveShot(page, '/tmp/security-portal-buy.png');
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});

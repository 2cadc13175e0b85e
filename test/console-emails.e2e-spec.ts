import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiryJob } from '../src/credits/credit-expiry.job.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { passTime } from './support/clock.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * Without SMTP_URL (as a plain `npm start` runs) emails are made and kept, and the console's Emails
 * screen shows them: an expiry notice read in a real browser (Debian's chromium, playwright-core).
 * Screenshots land in test-results/console/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`console emails test skipped: no Chromium at ${CHROMIUM}`);
const SHOTS = process.env.CONSOLE_SHOTS_DIR ?? join(import.meta.dirname, '..', 'test-results', 'console');
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });
const DAY = 86_400_000;

let own: OwnDatabase;
let t: TestApp;
let browser: Browser;
let baseUrl: string;
let consoleDir: string;
const adminId = uniqueId('eadmin');
const userId = uniqueId('ereader');

describe.skipIf(!available)('the Emails screen without SMTP_URL', () => {
  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'console-'));
    execFileSync(
      process.execPath,
      [
        join('node_modules', 'vite', 'bin', 'vite.js'),
        'build',
        '--config',
        'console/vite.config.ts',
        '--outDir',
        consoleDir,
        '--logLevel',
        'warn',
      ],
      { stdio: 'inherit' },
    );
    mkdirSync(SHOTS, { recursive: true });
    // Its own database: the email worker runs, as in npm start, and makes every email due there.
    own = await ownDatabase('console_emails');
    t = await startTestApp({ DATABASE_URL: own.url, CONSOLE_DIR: consoleDir, EMAIL_WORKER_ENABLED: 'true' });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    const admin = bearer(token({ sub: adminId, role: 'admin' }));
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId, email: `${userId}@example.com`, username: userId })))
      .expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ userId, credits: 250, expiryDays: 2 }).expect(201);
    await passTime(t.db, userId, 1.5 * DAY); // 12 hours left: the 24-hour notice
    expect(await t.app.get(CreditExpiryJob).noticeExpiring()).toBe(1);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await own?.drop();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
  });

  it('lists the expiry email as kept and shows what it says', async () => {
    const { page, errors } = await openConsole();
    await signIn(page, token({ sub: adminId, role: 'admin' }));
    await page.getByRole('navigation').getByRole('link', { name: 'Emails' }).click();
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Emails');
    const table = page.getByRole('table', { name: 'Emails' });
    const row = table.getByRole('row').filter({ hasText: `${userId}@example.com` });
    await poll(() => row.textContent()).toContain('kept');
    expect(await row.textContent()).toContain('credits.expiring');
    expect(await row.textContent()).toContain('Accounting: 250 credits expire');
    await row.getByRole('button', { name: /^Read email/ }).click();
    const body = page.getByRole('region', { name: /^Email Accounting: 250 credits expire/ });
    await poll(() => body.textContent()).toContain('in about 1 day');
    expect(await body.textContent()).toContain(`Hello ${userId},`);
    expect(await body.textContent()).toContain('/api/notifications/unsubscribe/');
    await shot(page, 'emails');

    await page.getByLabel('Status').first().click();
    await page.getByRole('option', { name: 'sent' }).click();
    await poll(() => page.url()).toContain('status=sent');
    await poll(() => page.getByText('Nothing here.').count()).toBe(1);
    expect(errors).toEqual([]);
  });
});

async function openConsole() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'blob:' || url.protocol === 'data:') return route.continue();
    errors.push(`request to another host: ${url.href}`);
    return route.abort();
  });
  return { page, context, errors };
}

async function signIn(page: Page, accessToken: string): Promise<void> {
  await page.goto(`${baseUrl}/admin/`);
  await page.getByLabel('Access token').fill(accessToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Overview' }).waitFor();
}

async function shot(page: Page, name: string): Promise<void> {
  await poll(() => page.evaluate(() => document.getAnimations().length)).toBe(0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

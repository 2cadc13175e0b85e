import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmailWorker } from '../src/notifications/email.worker.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { SmtpSink } from './support/smtp-sink.js';

/**
 * budget.reached as an email (docs/budgets.md "Telling"), sent for real to an SMTP server on
 * 127.0.0.1 by the app's email worker: to the account's address, once per budget and period, when a
 * write takes the budget to its limit or when a write is refused for it first.
 */
const admin = bearer(token({ sub: 'bmail-admin', role: 'admin' }));

describe('budget.reached as an email', () => {
  let own: OwnDatabase;
  let sink: SmtpSink;
  let t: TestApp;
  let worker: EmailWorker;

  beforeAll(async () => {
    own = await ownDatabase('budget_mail');
    sink = await SmtpSink.start();
    t = await startTestApp({
      DATABASE_URL: own.url,
      SMTP_URL: sink.url,
      EMAIL_WORKER_ENABLED: 'false',
      PLATFORM_NAME: 'Acme Chat',
    });
    worker = t.app.get(EmailWorker);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await sink?.close();
    await own?.drop();
  });

  async function newUser(credits: number) {
    const userId = uniqueId('bmail');
    const email = `${userId}@example.com`;
    const auth = bearer(token({ sub: userId, email, username: userId }));
    await t.http.get('/api/users/me').set(auth).expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ userId, credits }).expect(201);
    return { userId, email, auth };
  }
  const record = (auth: Record<string, string>, credits: number, scopes: Record<string, unknown>) =>
    t.http.post('/api/usage/record').set(auth).send({ service: 'chat', operation: 'completion', credits, scopes });
  const budget = async (auth: Record<string, string>, body: Record<string, unknown>) => {
    const res = await t.http.post('/api/budgets').set(auth).send(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };

  it('emails the account once per budget and period when a write reaches its limit', async () => {
    const u = await newUser(1000);
    const budgetId = uniqueId('alpha').toLowerCase();
    await budget(u.auth, { budgetId, scope: { kind: 'project', id: 'alpha' }, limitCredits: 10, period: 'month' });
    expect((await record(u.auth, 6, { project: 'alpha' })).status).toBe(201);
    expect(await worker.runDue()).toBe(0);
    expect((await record(u.auth, 4, { project: 'alpha' })).status).toBe(201);
    expect(await worker.runDue()).toBe(1);
    const mails = sink.to(u.email);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe(`Acme Chat: budget ${budgetId} of your account is reached`);
    expect(mails[0].text).toContain(
      `the budget ${budgetId} of your account (project alpha) has reached its limit of 10 credits (10 used this month).`,
    );
    expect(mails[0].html).toContain(`<strong>${budgetId}</strong>`);

    // Refused, then raised and reached again in the same period: no second email.
    expect((await record(u.auth, 1, { project: 'alpha' })).status).toBe(402);
    await t.http.patch(`/api/budgets/${budgetId}`).set(u.auth).send({ limitCredits: 12 }).expect(200);
    expect((await record(u.auth, 2, { project: 'alpha' })).status).toBe(201);
    expect(await worker.runDue()).toBe(0);
    expect(sink.to(u.email)).toHaveLength(1);
  });

  it('emails on the first refusal too, and a write naming no budget sends nothing', async () => {
    const u = await newUser(1000);
    const budgetId = uniqueId('run').toLowerCase();
    await budget(u.auth, { budgetId, scope: { kind: 'run', id: 'r-1' }, limitCredits: 5 });
    expect((await record(u.auth, 3, { run: 'r-other' })).status).toBe(201);
    expect(await worker.runDue()).toBe(0);
    expect((await record(u.auth, 6, { run: 'r-1' })).status).toBe(402);
    expect((await record(u.auth, 7, { run: 'r-1' })).status).toBe(402);
    expect(await worker.runDue()).toBe(1);
    const mails = sink.to(u.email);
    expect(mails.map((m) => m.subject)).toEqual([`Acme Chat: budget ${budgetId} of your account is reached`]);
    expect(mails[0].text).toContain('(run r-1) has reached its limit of 5 credits (0 used).');
    expect(mails[0].text).toContain('are refused until its limit is raised.');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmailWorker } from '../src/notifications/email.worker.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { SmtpSink } from './support/smtp-sink.js';

/**
 * W8: the JWT `email` claim was used as an address list (a second address, or a CR/LF and a header,
 * re-routed the account's mail) and the username went raw into the text part. An `email` claim that
 * is not one valid address is now ignored, and names are escaped in every part (sent for real to an
 * SMTP server on 127.0.0.1, each message parsed).
 */
const admin = () => bearer(token({ sub: 'w8-admin', role: 'admin' }));

describe('W8: emails from JWT claims', () => {
  let own: OwnDatabase;
  let sink: SmtpSink;
  let t: TestApp;
  let worker: EmailWorker;

  beforeAll(async () => {
    own = await ownDatabase('w8');
    sink = await SmtpSink.start();
    t = await startTestApp({
      DATABASE_URL: own.url,
      SMTP_URL: sink.url,
      EMAIL_WORKER_ENABLED: 'false',
      PLATFORM_NAME: 'Acme Chat',
    });
    worker = t.app.get(EmailWorker);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await sink?.close();
    await own?.drop();
  });

  async function paidPurchase(userId: string) {
    const created = await t.http
      .post('/api/purchases')
      .set(admin())
      .send({ userId, credits: 100, amount: '5.00', currency: 'usd', provider: 'stripe' })
      .expect(201);
    await t.http.post(`/api/purchases/${created.body.id}/paid`).set(admin()).send({}).expect(200);
  }

  const storedEmail = async (userId: string) =>
    (await t.db.query(`SELECT email FROM user_accounts WHERE user_id = $1`, [userId])).rows[0].email as string | null;

  it('an email claim that is not one valid address is ignored: the account keeps its last valid one', async () => {
    const userId = uniqueId('w8');
    const good = `${userId}@example.com`;
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId, email: good })))
      .expect(200);
    for (const bad of [
      `${good}, thief@evil.example`,
      `${good}\r\nBcc: thief@evil.example`,
      `Alice <thief@evil.example>`,
      'not an address',
      `${good};thief@evil.example`,
    ]) {
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub: userId, email: bad })))
        .expect(200);
      expect(await storedEmail(userId)).toBe(good);
    }
    await paidPurchase(userId);
    const before = sink.received.length;
    expect(await worker.runDue()).toBe(1);
    const sent = sink.received.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0].to).toEqual([good]);
    const newer = `${userId}.new@example.com`;
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId, email: newer })))
      .expect(200);
    expect(await storedEmail(userId)).toBe(newer);
  });

  it('a first token with a list sets no address at all', async () => {
    const userId = uniqueId('w8list');
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId, email: `${userId}@example.com,thief@evil.example` })))
      .expect(200);
    expect(await storedEmail(userId)).toBeNull();
  });

  it('names are escaped in every part: HTML escaped in HTML, control characters gone from text and subject', async () => {
    const userId = uniqueId('w8name');
    const email = `${userId}@example.com`;
    const username = 'Bob<img src=x onerror=alert(1)>\r\n\r\nYour account is closed: pay at https://evil.example\u202e';
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId, email, username })))
      .expect(200);
    await paidPurchase(userId);
    expect(await worker.runDue()).toBe(1);
    const [mail] = sink.to(email);
    expect(mail.text).toContain('Hello Bob<img src=x onerror=alert(1)> Your account is closed');
    expect(mail.text).not.toMatch(/\r|\u202e/);
    expect(mail.text!.split('\n').some((line) => line.startsWith('Your account is closed'))).toBe(false);
    expect(mail.html).not.toContain('<img');
    expect(mail.html).toContain('Bob&lt;img');
    expect(mail.html).not.toContain('\u202e');
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });
});

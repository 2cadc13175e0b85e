import { describe, expect, it } from 'vitest';

import { EMAIL_KINDS } from './email-kinds.js';
import { type EmailEvent, type EmailInput, EmailTemplates, formatLead, formatUtc } from './email-templates.js';
import { UnsubscribeTokens } from './unsubscribe-token.js';

const templates = new EmailTemplates();
const base: Omit<EmailInput, 'event'> = {
  platformName: 'Acme <Chat>',
  unsubscribeUrl: 'https://chat.example.com/api/notifications/unsubscribe/x.y',
  recipientName: 'bob',
  orgName: null,
};

describe('email templates', () => {
  it('every kind makes a subject, a text and an HTML part naming the platform', () => {
    for (const kind of EMAIL_KINDS) {
      // A payload missing its figures still makes an email (the templates leave them blank).
      const event = { kind, data: { userId: 'bob', orgId: 'acme' } } as EmailEvent;
      const made = templates.render({ ...base, event });
      expect(made.subject, kind).toContain('Acme <Chat>');
      expect(made.text, kind).toContain('Acme <Chat>');
      expect(made.text, kind).toContain(base.unsubscribeUrl);
      // The HTML part escapes what it is given.
      expect(made.html, kind).toContain('Acme &lt;Chat&gt;');
      expect(made.html, kind).not.toContain('Acme <Chat>');
    }
  });

  it('promotion.redeemed from its data: code, credits, expiry', () => {
    const made = templates.render({
      ...base,
      event: {
        kind: 'promotion.redeemed',
        data: {
          userId: 'bob',
          code: 'LAUNCH-2026',
          redemptionId: 'r1',
          allocationId: 'a1',
          credits: 500,
          expiresAt: '2027-01-31T00:00:00.000Z',
        },
      },
    });
    expect(made.subject).toBe('Acme <Chat>: code LAUNCH-2026 gave you 500 credits');
    expect(made.text).toContain('The code LAUNCH-2026 added 500 credits to your account');
    expect(made.text).toContain('2027-01-31 00:00 UTC');
    expect(made.html).toContain('<strong>LAUNCH-2026</strong>');
  });

  it("an organisation's account is named; a value cannot inject markup", () => {
    const made = templates.render({
      ...base,
      orgName: 'Evil <script>alert(1)</script>',
      event: { kind: 'balance.low', data: { userId: null, orgId: 'evil', threshold: 100, balance: 99 } },
    });
    expect(made.subject).toContain("Evil <script>alert(1)</script>'s balance is below 100 credits");
    expect(made.html).not.toContain('<script>');
    expect(made.html).toContain('the account of Evil &lt;script&gt;');
  });

  it("purchase.paid shows the allocation's expiry from the event's own data", () => {
    const made = templates.render({
      ...base,
      event: {
        kind: 'purchase.paid',
        data: {
          purchaseId: 'p1',
          userId: 'bob',
          allocationId: 'a1',
          credits: 1000,
          expiresAt: '2027-03-01T09:30:00.000Z',
          amount: '10.00',
          currency: 'usd',
        },
      },
    });
    expect(made.text).toContain('2027-03-01 09:30 UTC');
    expect(made.html).toContain('2027-03-01 09:30 UTC');
  });

  it('formats times in UTC and lead times in days or hours', () => {
    expect(formatUtc('2026-12-01T12:34:56.789Z')).toBe('2026-12-01 12:34 UTC');
    expect(formatUtc('not a date')).toBeNull();
    expect([formatLead(168), formatLead(24), formatLead(36), formatLead(1)]).toEqual([
      '7 days',
      '1 day',
      '36 hours',
      '1 hour',
    ]);
  });
});

describe('unsubscribe tokens', () => {
  const tokens = new UnsubscribeTokens('a-secret-of-at-least-thirty-two-characters');

  it('name the user and the kind they were made for', () => {
    const token = tokens.sign('bob', 'balance.low');
    expect(tokens.verify(token)).toEqual({ userId: 'bob', kind: 'balance.low' });
  });

  it('refuse an altered, forged or foreign token', () => {
    const token = tokens.sign('bob', 'balance.low');
    const [payload, mac] = token.split('.');
    const other = Buffer.from(JSON.stringify(['alice', 'balance.low'])).toString('base64url');
    expect(tokens.verify(`${other}.${mac}`)).toBeNull();
    expect(tokens.verify(`${payload}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(tokens.verify(`${payload}.`)).toBeNull();
    expect(tokens.verify('')).toBeNull();
    expect(new UnsubscribeTokens('another-secret-of-thirty-two-characters!').verify(token)).toBeNull();
    const unknownKind = Buffer.from(JSON.stringify(['bob', 'webhook.test'])).toString('base64url');
    expect(new UnsubscribeTokens('x'.repeat(32)).verify(`${unknownKind}.${'A'.repeat(43)}`)).toBeNull();
  });

  it("accept only the spelling they were written in: the last character's unused bits are not free", () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const user of ['bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan']) {
      const token = tokens.sign(user, 'balance.low');
      const last = alphabet.indexOf(token.at(-1)!);
      // The three other characters with the same top four bits decode to the same 32 bytes.
      for (let low = 0; low < 4; low += 1) {
        const spelling = token.slice(0, -1) + alphabet[(last & ~3) | low];
        expect(tokens.verify(spelling)).toEqual(spelling === token ? { userId: user, kind: 'balance.low' } : null);
      }
    }
  });
});

describe('the credits.runway email', () => {
  it('says the run-out instant and the threshold, for a user and for an organisation', () => {
    const data = { userId: 'bob', runsOutAt: '2026-12-04T09:30:00.000Z', days: 3 };
    const own = templates.render({ ...base, event: { kind: 'credits.runway', data } });
    expect(own.subject).toBe('Acme <Chat>: your credits run out around 2026-12-04');
    expect(own.text).toContain('run out around 2026-12-04 09:30 UTC: within 3 days.');
    expect(own.html).toContain('<strong>2026-12-04 09:30 UTC</strong>: within 3 days.');
    const org = templates.render({
      ...base,
      orgName: 'Acme Ltd',
      event: { kind: 'credits.runway', data: { userId: null, orgId: 'acme', runsOutAt: data.runsOutAt, days: 1 } },
    });
    expect(org.subject).toBe("Acme <Chat>: Acme Ltd's credits run out around 2026-12-04");
    expect(org.text).toContain('the credits of the account of Acme Ltd on Acme <Chat> run out');
    expect(org.text).toContain('within 1 day.');
  });
});

describe('the budget.reached email', () => {
  it('names the budget, its scope and figures; a period budget says when it restarts', () => {
    const data = {
      userId: 'bob',
      budgetId: 'alpha-monthly',
      scope: { kind: 'project', id: 'alpha' },
      limit: 500,
      used: 500,
      period: 'month',
    };
    const own = templates.render({ ...base, event: { kind: 'budget.reached', data } });
    expect(own.subject).toBe('Acme <Chat>: budget alpha-monthly of your account is reached');
    expect(own.text).toContain('(project alpha) has reached its limit of 500 credits (500 used this month).');
    expect(own.text).toContain('refused until the next month or until its limit is raised.');
    expect(own.html).toContain('<strong>alpha-monthly</strong>');
    const org = templates.render({
      ...base,
      orgName: 'Acme Ltd',
      event: { kind: 'budget.reached', data: { ...data, userId: null, orgId: 'acme', period: 'lifetime', used: 7 } },
    });
    expect(org.subject).toBe("Acme <Chat>: budget alpha-monthly of Acme Ltd's account is reached");
    expect(org.text).toContain('the budget alpha-monthly of the account of Acme Ltd (project alpha)');
    expect(org.text).toContain('its limit of 500 credits (7 used).');
    expect(org.text).not.toContain('next');
  });
});

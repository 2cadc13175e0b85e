import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';

import { generateSecret, sign, signatureHeaders } from './webhook-signing.js';

describe('Standard Webhooks signatures', () => {
  it("matches the spec's published test vector", () => {
    // spec/standard-webhooks.md, "Signature scheme" example.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const signature = sign(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('the reference verifier accepts what we sign, and rejects a changed body', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ id: 'e1', type: 'webhook.test', createdAt: '2026-01-01T00:00:00.000Z', data: {} });
    const now = Math.floor(Date.now() / 1000);
    const headers = signatureHeaders([secret], 'e1', now, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('e1', 'e2'), headers)).toThrow();
  });

  it('during a rotation both secrets sign, and either one verifies', () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const body = '{"a":1}';
    const headers = signatureHeaders([newSecret, oldSecret], 'm1', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, headers)).toEqual({ a: 1 });
    expect(new Webhook(newSecret).verify(body, headers)).toEqual({ a: 1 });
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
  });

  it('secrets are whsec_ + base64 of 32 random bytes, never twice the same', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });
});

import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

import { type EmailKind, isEmailKind } from './email-kinds.js';

/**
 * The signed part of an unsubscribe link: who and which kind, and an HMAC-SHA256 over them with a
 * key derived (HKDF) from WEBHOOK_SECRET_KEY for this use only, so the link works without signing
 * in and cannot be made for another user or kind. `<base64url(JSON [userId, kind])>.<base64url(mac)>`.
 */
export class UnsubscribeTokens {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, '', 'accounting-service email unsubscribe v1', 32));
  }

  sign(userId: string, kind: EmailKind): string {
    const payload = Buffer.from(JSON.stringify([userId, kind])).toString('base64url');
    return `${payload}.${this.mac(payload).toString('base64url')}`;
  }

  /** The user and kind a token names, or null when it is malformed, forged or altered. */
  verify(token: string): { userId: string; kind: EmailKind } | null {
    const match = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return null;
    // Compared as text, not decoded bytes: the 43rd character carries two unused bits, so four
    // spellings decode to one MAC, and only the one this service wrote is the token.
    const given = Buffer.from(match[2]);
    const expected = Buffer.from(this.mac(match[1]).toString('base64url'));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const parsed: unknown = JSON.parse(Buffer.from(match[1], 'base64url').toString('utf8'));
      if (!Array.isArray(parsed) || parsed.length !== 2) return null;
      const [userId, kind] = parsed as unknown[];
      if (typeof userId !== 'string' || !isEmailKind(kind)) return null;
      return { userId, kind };
    } catch {
      return null;
    }
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }
}

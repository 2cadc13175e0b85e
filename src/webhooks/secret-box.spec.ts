import { describe, expect, it } from 'vitest';

import { SecretBox } from './secret-box.js';

describe('SecretBox', () => {
  const box = new SecretBox('k'.repeat(32));
  const id = '8d3e0a52-7a51-4c53-9d52-111111111111';

  it('round-trips, and the stored form does not contain the secret', () => {
    const sealed = box.seal('whsec_abc', id);
    expect(sealed).not.toContain('abc');
    expect(box.open(sealed, id)).toBe('whsec_abc');
    expect(box.seal('whsec_abc', id)).not.toBe(sealed); // a fresh IV every time
  });

  it('another key, another endpoint or a changed byte does not decrypt', () => {
    const sealed = box.seal('whsec_abc', id);
    expect(() => new SecretBox('j'.repeat(32)).open(sealed, id)).toThrow();
    expect(() => box.open(sealed, id.replace('1111', '2222'))).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('whsec_abd').toString('base64');
    expect(() => box.open(parts.join('.'), id)).toThrow();
    expect(() => box.open('garbage', id)).toThrow();
  });
});

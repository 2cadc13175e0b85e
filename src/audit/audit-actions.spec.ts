import { describe, expect, it } from 'vitest';

import { redactUrl, withoutSecrets } from './audit-actions.js';

describe('withoutSecrets', () => {
  it('drops secret keys at any depth', () => {
    expect(withoutSecrets({ id: 'w1', secret: 'whsec_x', nested: [{ key: 'k', keyHash: 'h', name: 'n' }] })).toEqual({
      id: 'w1',
      nested: [{ name: 'n' }],
    });
  });

  it('keeps the secrets found in URLs out: query values, user info and fragments', () => {
    // A webhook URL's ?token= must never reach the audit log.
    expect(withoutSecrets({ url: 'https://hooks.example.org/in?token=s3cr3t&team=ops' })).toEqual({
      url: 'https://hooks.example.org/in?token=REDACTED&team=REDACTED',
    });
    expect(redactUrl('https://user:pw@hooks.example.org/in#sig=abc')).toBe(
      'https://REDACTED:REDACTED@hooks.example.org/in#REDACTED',
    );
    expect(redactUrl('https://hooks.example.org:8443/in/abc')).toBe('https://hooks.example.org:8443/in/abc');
    expect(redactUrl('not a url ?token=x')).toBe('not a url ?token=x');
    const entry = JSON.stringify(
      withoutSecrets({ before: { url: 'https://h.example.org/?api_key=AAAA' }, after: null }),
    );
    expect(entry).not.toContain('AAAA');
  });
});

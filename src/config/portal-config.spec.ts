import { describe, expect, it } from 'vitest';

import { buildAppConfig, ConfigValidationError } from './app-config.js';

describe('portal configuration', () => {
  it('PUBLIC_URL defaults to http://localhost:<PORT>, keeps no trailing slash', () => {
    expect(buildAppConfig({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(buildAppConfig({ PUBLIC_URL: 'https://credits.example/' }).publicUrl).toBe('https://credits.example');
    expect(buildAppConfig({ PUBLIC_URL: 'https://x.example/base' }).publicUrl).toBe('https://x.example/base');
  });

  it('PORTAL_ALLOWED_ORIGINS is a list of origins, empty by default', () => {
    expect(buildAppConfig({}).portal.allowedOrigins).toEqual([]);
    expect(
      buildAppConfig({ PORTAL_ALLOWED_ORIGINS: 'https://app.example, http://127.0.0.1:5173' }).portal.allowedOrigins,
    ).toEqual(['https://app.example', 'http://127.0.0.1:5173']);
  });

  it('PORTAL_KEY_MAX_DAYS bounds the keys a portal token creates: 90 days by default', () => {
    expect(buildAppConfig({}).portal.keyMaxDays).toBe(90);
    expect(buildAppConfig({ PORTAL_KEY_MAX_DAYS: '7' }).portal.keyMaxDays).toBe(7);
  });

  it.each([
    ['PORTAL_KEY_MAX_DAYS', '0'],
    ['PORTAL_KEY_MAX_DAYS', '1.5'],
    ['PORTAL_KEY_MAX_DAYS', 'never'],
    ['PORTAL_ALLOWED_ORIGINS', 'https://app.example/'],
    ['PORTAL_ALLOWED_ORIGINS', 'app.example'],
    ['PORTAL_ALLOWED_ORIGINS', '*'],
    ['PUBLIC_URL', 'ftp://x.example'],
    ['PUBLIC_URL', 'https://x.example/?a=1'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => buildAppConfig({ [name]: value })).toThrow(ConfigValidationError);
    expect(() => buildAppConfig({ [name]: value })).toThrow(name);
  });
});

import { describe, expect, it } from 'vitest';

import { EnvReader } from '../../src/config/env-reader.js';
import { portalConfig } from '../../src/config/portal-config.js';

const read = (env: Record<string, string>) => {
  const reader = new EnvReader(env);
  return { config: portalConfig(reader), problems: reader.problems };
};

describe('PORTAL_BUY_URL', () => {
  it('is absent by default: the portal offers no purchase', () => {
    expect(read({})).toEqual({ config: { allowedOrigins: [], buyUrl: null, keyMaxDays: 90 }, problems: [] });
  });

  it('keeps an http(s) URL with its own query', () => {
    expect(read({ PORTAL_BUY_URL: 'https://app.example/buy?src=portal' }).config.buyUrl).toBe(
      'https://app.example/buy?src=portal',
    );
  });

  it.each(['javascript:alert(1)', 'ftp://app.example/buy', '/buy', 'not a url'])('refuses %s at boot', (value) => {
    const { config, problems } = read({ PORTAL_BUY_URL: value });
    expect(config.buyUrl).toBeNull();
    expect(problems).toEqual([expect.stringContaining('PORTAL_BUY_URL must be an http(s) URL')]);
  });
});

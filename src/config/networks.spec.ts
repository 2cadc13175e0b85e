import { describe, expect, it } from 'vitest';

import { buildAppConfig } from './app-config.js';

const SECRETS = { JWT_ACCESS_SECRET: 'j'.repeat(32), WEBHOOK_SECRET_KEY: 'w'.repeat(32) };

describe('WEBHOOK_ALLOWED_NETWORKS', () => {
  it('reads a comma list of IPv4 and IPv6 CIDRs and single addresses; default none', () => {
    expect(buildAppConfig({}).webhooks.allowedNetworks).toEqual([]);
    expect(
      buildAppConfig({ WEBHOOK_ALLOWED_NETWORKS: ' 10.0.0.0/8, fd00::/8 ,192.168.1.7' }).webhooks.allowedNetworks,
    ).toEqual(['10.0.0.0/8', 'fd00::/8', '192.168.1.7']);
  });

  it('refuses a bad entry in every NODE_ENV, naming the variable', () => {
    for (const NODE_ENV of ['production', 'test']) {
      const env = { NODE_ENV, DATABASE_URL: 'postgres://svc@db/acc', ...SECRETS };
      expect(() => buildAppConfig({ ...env, WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0/8,10.1/16' })).toThrow(
        /WEBHOOK_ALLOWED_NETWORKS must be a comma list of CIDRs such as 10.0.0.0\/8 \(got "10.1\/16"\)/,
      );
    }
  });
});

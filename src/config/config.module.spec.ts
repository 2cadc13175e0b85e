import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';

import type { AppConfig } from './app-config.js';
import { APP_CONFIG, AppConfigModule } from './config.module.js';

describe('AppConfigModule', () => {
  it('applies its overrides without writing them into process.env (the next app would inherit them)', async () => {
    const before = { TRUST_PROXY: process.env.TRUST_PROXY, THROTTLE_LIMIT: process.env.THROTTLE_LIMIT };
    const module = await Test.createTestingModule({
      // Vitest runs with NODE_ENV=test, which needs real secrets.
      imports: [
        AppConfigModule.forRoot({
          TRUST_PROXY: '1',
          THROTTLE_LIMIT: '7',
          JWT_ACCESS_SECRET: 'j'.repeat(32),
          WEBHOOK_SECRET_KEY: 'w'.repeat(32),
        }),
      ],
    }).compile();
    try {
      expect(module.get<AppConfig>(APP_CONFIG).throttle.limit).toBe(7);
      expect({ TRUST_PROXY: process.env.TRUST_PROXY, THROTTLE_LIMIT: process.env.THROTTLE_LIMIT }).toEqual(before);
    } finally {
      await module.close();
    }
  });
});

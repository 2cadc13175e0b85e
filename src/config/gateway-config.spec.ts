import { describe, expect, it } from 'vitest';

import { EnvReader } from './env-reader.js';
import { gatewayConfig } from './gateway-config.js';

describe('gatewayConfig: the answer limits and the allowed betas', () => {
  it('defaults: 1 MiB buffered, 60 s idle, 64 MiB an answer, no beta', () => {
    const read = new EnvReader({});
    expect(gatewayConfig(read)).toMatchObject({
      maxBufferBytes: 1024 * 1024,
      clientIdleSeconds: 60,
      maxAnswerBytes: 64 * 1024 * 1024,
      allowedBetas: [],
    });
    expect(read.problems).toEqual([]);
  });

  it('reads a comma list of betas, and refuses what is not a beta name or a bound', () => {
    const ok = new EnvReader({ GATEWAY_ALLOWED_BETAS: ' output-128k-2025-02-19 ,prompt-caching-2024-07-31,' });
    expect(gatewayConfig(ok).allowedBetas).toEqual(['output-128k-2025-02-19', 'prompt-caching-2024-07-31']);
    const bad = new EnvReader({
      GATEWAY_ALLOWED_BETAS: 'a b',
      GATEWAY_MAX_BUFFER_BYTES: '100',
      GATEWAY_CLIENT_IDLE_SECONDS: '0',
    });
    gatewayConfig(bad);
    expect(bad.problems).toHaveLength(3);
    for (const name of ['GATEWAY_ALLOWED_BETAS', 'GATEWAY_MAX_BUFFER_BYTES', 'GATEWAY_CLIENT_IDLE_SECONDS'])
      expect(bad.problems.some((problem) => problem.startsWith(name))).toBe(true);
  });
});

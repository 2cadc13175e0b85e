import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';

describe('health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it.each(['/health', '/api/health'])('%s answers ok with service and version', async (path) => {
    const res = await t.http.get(path).expect(200);
    expect(res.body).toMatchObject({ status: 'ok', service: 'accounting-service', version: expect.any(String) });
    expect(new Date(res.body.timestamp).toISOString()).toBe(res.body.timestamp);
  });

  it('readiness is 200 while the database answers', async () => {
    const res = await t.http.get('/api/health/ready').expect(200);
    expect(res.body.status).toBe('ok');
  });
});

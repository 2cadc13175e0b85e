import { randomUUID } from 'node:crypto';

import { expect } from 'vitest';

import type { AuthUser } from '../../src/auth/roles.js';
import { StreamingSessionsService } from '../../src/streaming-sessions/streaming-sessions.service.js';
import { UsageService } from '../../src/usage/usage.service.js';
import { bearer, type TestApp } from './app.js';
import { tokenFor } from './fixtures.js';

/** A user calling with their own token: under METERING_TRUST=users (test/support/app.ts) they meter themselves. */
export const asUser = (userId: string): AuthUser => ({
  userId,
  role: 'user',
  email: null,
  username: null,
  via: 'jwt',
});

/**
 * For int specs: the calls production makes to move credits, on the services behind the metering
 * routes (POST /api/usage/record → UsageService.record; /api/streaming-sessions/initialize, finalize
 * and abort → StreamingSessionsService), made by the billed user, so a spec sends the very statements
 * production sends and sees the services' errors as thrown. Amounts are credits: sessions use a model
 * priced at 1 credit per 1k tokens (made by `start`), so `n` credits are `n × 1000` tokens, and a
 * session estimated at `e` credits holds ceil(e × 6/5).
 */
export class Metering {
  private constructor(
    private readonly t: Pick<TestApp, 'app'>,
    readonly model: string,
  ) {}

  /** Prices a fresh model at 1 credit per 1k tokens (POST /api/pricing as an admin). */
  static async start(t: Pick<TestApp, 'app' | 'http'>): Promise<Metering> {
    const model = `metering-${randomUUID().slice(0, 8)}`;
    const res = await t.http
      .post('/api/pricing')
      .set(bearer(tokenFor('admin', 'metering-admin')))
      .send({ modelId: model, pricePer1kTokens: '1' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return new Metering(t, model);
  }

  private get sessions(): StreamingSessionsService {
    return this.t.app.get(StreamingSessionsService);
  }

  /** A usage record of `credits`: the strict debit and the record in one statement (a batch of one). */
  record(userId: string, credits: number) {
    return this.t.app.get(UsageService).record(asUser(userId), { service: 'chat', operation: 'completion', credits });
  }

  /** Opens a session estimated at `estimatedCredits`, holding ceil(estimatedCredits × 6/5) (holdAndInsert). */
  initialize(userId: string, sessionId: string, estimatedCredits: number) {
    return this.sessions.initialize(asUser(userId), {
      sessionId,
      modelId: this.model,
      estimatedTokens: estimatedCredits * 1000,
    });
  }

  /** Finalizes a session charging `credits` (settleSession). */
  finalize(userId: string, sessionId: string, credits: number) {
    return this.sessions.finalize(asUser(userId), { sessionId, actualTokens: credits * 1000 });
  }

  /** Aborts a session charging `credits` for what was generated (settleSession). */
  abort(userId: string, sessionId: string, credits: number) {
    return this.sessions.abort(asUser(userId), { sessionId, tokensGenerated: credits * 1000 });
  }
}

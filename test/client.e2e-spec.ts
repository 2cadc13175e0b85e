import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  abortSession,
  allocateCredits,
  type Client,
  createAccountingClient,
  createApiKey,
  exportUsageRecordsCsv,
  finalizeSession,
  getBalance,
  getUsageStats,
  initializeSession,
  listUsageRecords,
  recordUsage,
  type UsageRecordResponseDto,
} from '../clients/typescript/src/index.js';
import { startTestApp, type TestApp, token, uniqueId } from './support/app.js';

/**
 * A whole flow through the generated client only (clients/typescript), over real HTTP: the client
 * compiles against the committed document (`npm run typecheck`, strict) and works against the
 * service. Nothing here builds a request by hand.
 */
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
let t: TestApp;
let baseUrl: string;

beforeAll(async () => {
  t = await startTestApp();
  baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
});
afterAll(() => t?.close());

describe('the generated TypeScript client', () => {
  it('allocates, records, holds and settles, reads stats and paged records, and uses an API key', async () => {
    const userId = uniqueId('client');
    const admin = createAccountingClient({ baseUrl, token: token({ sub: uniqueId('admin'), role: 'admin' }) });
    const user: Client = createAccountingClient({ baseUrl, token: () => token({ sub: userId }) });

    const granted = await allocateCredits({
      client: admin,
      body: { userId, credits: 1000, email: `${userId}@example.com`, username: userId },
    });
    expect(granted.response?.status).toBe(201);
    expect(granted.data?.remainingCredits).toBe(1000);

    // Recorded once: the same Idempotency-Key replays the first answer.
    const key = randomUUID();
    const record = { service: 'chat', operation: 'completion', credits: 12 };
    const first = await recordUsage({ client: user, body: record, headers: { 'Idempotency-Key': key } });
    const again = await recordUsage({ client: user, body: record, headers: { 'Idempotency-Key': key } });
    expect(first.response?.status).toBe(201);
    expect(again.response?.headers.get('Idempotent-Replayed')).toBe('true');
    expect(again.data?.id).toBe(first.data?.id);

    // 402 comes back typed, with what was needed and what there was.
    const short = await recordUsage({ client: user, body: { ...record, credits: 5000 } });
    expect(short.response?.status).toBe(402);
    if (short.response?.status === 402 && short.error && 'availableCredits' in short.error) {
      expect(short.error.code).toBe('INSUFFICIENT_CREDITS');
      expect(short.error.requiredCredits).toBe(5000);
      expect(short.error.availableCredits).toBe(988);
    } else throw new Error(`expected a typed 402, got ${short.response?.status}`);

    // Hold, then settle; settling the same session another way is a 409 ALREADY_SETTLED.
    const sessionId = uniqueId('chat');
    const held = await initializeSession({ client: user, body: { sessionId, modelId: MODEL, estimatedTokens: 2000 } });
    expect(held.response?.status).toBe(201);
    const settled = await finalizeSession({ client: user, body: { sessionId, actualTokens: 1500 } });
    expect(settled.data?.status).toBe('completed');
    const conflict = await abortSession({ client: user, body: { sessionId, tokensGenerated: 10 } });
    expect(conflict.response?.status).toBe(409);
    expect(conflict.error).toMatchObject({ code: 'ALREADY_SETTLED', sessionId, status: 'completed' });

    const balance = await getBalance({ client: user });
    const charged = 12 + (settled.data?.actualCredits ?? NaN);
    expect(balance.data?.totalCredits).toBe(1000 - charged);

    const stats = await getUsageStats({ client: user });
    expect(stats.data).toMatchObject({ userId, totalRecords: 2, totalCredits: charged });

    // Paged records: one per page, then the next page through the cursor.
    const pages: UsageRecordResponseDto[] = [];
    let cursor: string | undefined;
    do {
      const page = await listUsageRecords({ client: user, query: { limit: 1, cursor } });
      expect(page.response?.status).toBe(200);
      pages.push(...(page.data?.items ?? []));
      cursor = page.data?.nextCursor ?? undefined;
    } while (cursor);
    expect(pages.map((r) => r.credits).sort((a, b) => a - b)).toEqual([12, charged - 12].sort((a, b) => a - b));

    const csv = await exportUsageRecordsCsv({ client: user, parseAs: 'text' });
    expect(String(csv.data).split('\r\n').filter(Boolean)).toHaveLength(3);

    // An API key acts as its owner within its scopes; a replay never shows the key again.
    const keyRequest = { name: 'client test', permissions: ['credits:read' as const] };
    const keyOnce = { 'Idempotency-Key': randomUUID() };
    const created = await createApiKey({ client: user, body: keyRequest, headers: keyOnce });
    const replayed = await createApiKey({ client: user, body: keyRequest, headers: keyOnce });
    expect(created.data?.key).toMatch(/^acs_/);
    expect(replayed.data?.key).toBeNull();
    const viaKey = createAccountingClient({ baseUrl, apiKey: created.data?.key ?? undefined });
    expect((await getBalance({ client: viaKey })).data?.totalCredits).toBe(1000 - charged);
    const refused = await recordUsage({ client: viaKey, body: record });
    expect(refused.response?.status).toBe(403);
  });
});

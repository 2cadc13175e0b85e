import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createOpenAI } from '@ai-sdk/openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import jwt from 'jsonwebtoken';
import OpenAI from 'openai';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildServer } from '../../../test/support/build-server.js';
import { type OwnDatabase, ownDatabase } from '../../../test/support/own-database.js';
import { type ServiceProcess, spawnService } from '../../../test/support/service-process.js';
import { expectInvariants } from '../../../test/support/invariants.js';
import { TEST_JWT_SECRET } from '../../../test/support/app.js';
import {
  createMeter,
  type Meter,
  MeterRefusedError,
  type MeteredStream,
  meterMiddleware,
  type ProviderCall,
  type UsageFormat,
} from '../src/index.js';
import { ANTHROPIC_START_USAGE, GEMINI_USAGE_AFTER_TWO, RECORDINGS } from './recordings.js';
import { type Provider, ReplayServer } from './replay-server.js';
import { ServiceProxy } from './service-proxy.js';

/**
 * The kit end to end: the real SDK packages (openai, @anthropic-ai/sdk, @google/genai, ai with
 * @ai-sdk/openai) stream from a local replay of each provider's wire format, and the kit holds and
 * settles on the real service, built and started on a database of its own (METERING_TRUST=service,
 * the default: a service key with `usage:ingest` meters for the users). Every address is 127.0.0.1.
 *
 * Needs the service side of docs/provider-usage.md: `providerUsage` and `termination` on
 * finalize/abort, and `usageSource`/`termination`/`providerUsage` on record views.
 */
const root = fileURLToPath(new URL('../../..', import.meta.url));
const outDir = path.join(root, 'node_modules', '.cache', `kit-service-build-${process.pid}`);
const mainJs = path.join(outDir, 'src', 'main.js');

/** Prices of the test model, credits per 1,000 tokens, in tenths (2, 8, 0.5, 2.5, 10). */
const PRICE = { input: 20, output: 80, cacheRead: 5, cacheWrite: 25, reasoning: 100 };
const ESTIMATE = { inputTokens: 3000, outputTokens: 1000 };

/** The table of docs/provider-usage.md "The mapping", written out again here to check the service against it. */
function kindsOf(format: UsageFormat, u: any) {
  switch (format) {
    case 'openai.chat': {
      const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
      const reasoning = u.completion_tokens_details?.reasoning_tokens ?? 0;
      return {
        input: u.prompt_tokens - cached,
        cacheRead: cached,
        cacheWrite: 0,
        output: u.completion_tokens - reasoning,
        reasoning,
      };
    }
    case 'openai.responses': {
      const cached = u.input_tokens_details?.cached_tokens ?? 0;
      const reasoning = u.output_tokens_details?.reasoning_tokens ?? 0;
      return {
        input: u.input_tokens - cached,
        cacheRead: cached,
        cacheWrite: 0,
        output: u.output_tokens - reasoning,
        reasoning,
      };
    }
    case 'anthropic':
      return {
        input: u.input_tokens ?? 0,
        cacheRead: u.cache_read_input_tokens ?? 0,
        cacheWrite: u.cache_creation_input_tokens ?? 0,
        output: u.output_tokens ?? 0,
        reasoning: 0,
      };
    case 'gemini':
      return {
        input: (u.promptTokenCount ?? 0) - (u.cachedContentTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0),
        cacheRead: u.cachedContentTokenCount ?? 0,
        cacheWrite: 0,
        output: u.candidatesTokenCount ?? 0,
        reasoning: u.thoughtsTokenCount ?? 0,
      };
  }
}

/** ceil(Σ kind × price / 1000 × percent / 100), in integers (prices are in tenths). */
function creditsOf(
  k: { input: number; cacheRead: number; cacheWrite: number; output: number; reasoning: number },
  percent = 100,
) {
  const tenths =
    k.input * PRICE.input +
    k.output * PRICE.output +
    k.cacheRead * PRICE.cacheRead +
    k.cacheWrite * PRICE.cacheWrite +
    k.reasoning * PRICE.reasoning;
  return Math.ceil((tenths * percent) / 1_000_000);
}

const adminToken = jwt.sign({ sub: 'kit-admin', role: 'admin', type: 'access' }, TEST_JWT_SECRET, {
  algorithm: 'HS256',
  expiresIn: 3600,
});
const admin = { Authorization: `Bearer ${adminToken}` };

describe('the client kit, on real SDKs and the real service', () => {
  let own: OwnDatabase;
  let service: ServiceProcess;
  let serviceOrigin: string;
  let proxy: ServiceProxy;
  let replay: ReplayServer;
  let meter: Meter;
  let serviceKey: string;
  const model = `kit-model-${randomUUID().slice(0, 8)}`;
  const users: string[] = [];

  const http = () => request(serviceOrigin);

  async function newUser(credits: number): Promise<string> {
    const userId = `kit-${randomUUID().slice(0, 12)}`;
    const token = jwt.sign({ sub: userId, role: 'user', type: 'access' }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      expiresIn: 600,
    });
    await http()
      .get('/api/users/me')
      .set({ Authorization: `Bearer ${token}` })
      .expect(200);
    if (credits > 0) {
      const res = await http().post('/api/credits/allocate').set(admin).send({ userId, credits });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    users.push(userId);
    return userId;
  }

  /** The usage record the session's settlement wrote (admin read). */
  async function recordOf(userId: string, sessionId: string) {
    const res = await http().get('/api/usage/records').query({ userId, limit: 500 }).set(admin);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.items as any[]).filter((r) => r.metadata?.sessionId === sessionId);
  }

  async function balanceOf(userId: string): Promise<number> {
    const res = await http().get(`/api/credits/balance/${userId}`).set(admin);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.totalCredits;
  }

  // --- The SDKs, each pointed at the replay ------------------------------------------------------
  let openai: OpenAI;
  let anthropic: Anthropic;
  let genai: GoogleGenAI;

  interface Driver {
    format: UsageFormat;
    provider: Provider;
    /** Chunks the SDK yields from the replay's `hang` prefix (the stop test reads that many, then stops). */
    yieldsBeforeHang: number;
    call: ProviderCall<unknown>;
    /** What an abort after `yieldsBeforeHang` chunks must send. */
    stoppedCounts: Record<string, unknown>;
  }

  const drivers: Driver[] = [
    {
      format: 'openai.chat',
      provider: 'openai.chat',
      yieldsBeforeHang: 3,
      call: ({ signal, params }) =>
        openai.chat.completions.create(
          { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }], stream: true, ...params },
          { signal },
        ),
      // OpenAI sends no usage for a stopped stream: the prompt's estimate and the two content chunks.
      stoppedCounts: { inputTokens: ESTIMATE.inputTokens, outputTokens: 2 },
    },
    {
      format: 'openai.responses',
      provider: 'openai.responses',
      yieldsBeforeHang: 6,
      call: ({ signal }) => openai.responses.create({ model: 'gpt-4.1', input: 'Hello!', stream: true }, { signal }),
      stoppedCounts: { inputTokens: ESTIMATE.inputTokens, outputTokens: 2 },
    },
    {
      format: 'anthropic',
      provider: 'anthropic',
      yieldsBeforeHang: 4, // message_start, content_block_start, two deltas (the SDK skips pings)
      call: ({ signal }) =>
        anthropic.messages.create(
          {
            model: 'claude-sonnet-4-5',
            max_tokens: 1024,
            messages: [{ role: 'user', content: 'Hello!' }],
            stream: true,
          },
          { signal },
        ),
      stoppedCounts: { providerUsage: { format: 'anthropic', usage: ANTHROPIC_START_USAGE } },
    },
    {
      format: 'gemini',
      provider: 'gemini',
      yieldsBeforeHang: 2,
      call: ({ signal }) =>
        genai.models.generateContentStream({
          model: 'gemini-2.5-flash',
          contents: 'Why is the sky blue?',
          config: { abortSignal: signal },
        }),
      stoppedCounts: { providerUsage: { format: 'gemini', usage: GEMINI_USAGE_AFTER_TWO } },
    },
  ];

  beforeAll(async () => {
    const [database] = await Promise.all([ownDatabase('kit'), buildServer(outDir)]);
    own = database;
    service = spawnService(mainJs, root, {
      NODE_ENV: 'test',
      DATABASE_URL: own.url,
      DB_MIGRATIONS_RUN: 'false',
      JWT_ACCESS_SECRET: TEST_JWT_SECRET,
      WEBHOOK_SECRET_KEY: TEST_JWT_SECRET,
      WEBHOOK_WORKER_ENABLED: 'false',
      SHUTDOWN_GRACE_MS: '0',
    });
    serviceOrigin = `http://127.0.0.1:${await service.port}`;
    proxy = await ServiceProxy.start(serviceOrigin);
    replay = await ReplayServer.start();

    const price = await http()
      .post('/api/pricing')
      .set(admin)
      .send({
        modelId: model,
        pricePer1kTokens: '2',
        outputPricePer1kTokens: '8',
        cacheReadPricePer1kTokens: '0.5',
        cacheWritePricePer1kTokens: '2.5',
        reasoningPricePer1kTokens: '10',
        serviceTiers: { flex: { pricePercent: 50 }, priority: { pricePercent: 200 } },
        unitPrices: { web_search_call: 10 },
      });
    expect(price.status, JSON.stringify(price.body)).toBe(201);
    await http().get('/api/users/me').set(admin).expect(200);
    const key = await http()
      .post('/api/api-keys')
      .set(admin)
      .send({ name: 'chat backend', permissions: ['usage:ingest'] });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    serviceKey = key.body.key;
    meter = createMeter({ baseUrl: proxy.origin, apiKey: serviceKey, retry: { attempts: 4, delayMs: 20 } });

    openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${replay.origin}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: replay.origin, maxRetries: 0 });
    genai = new GoogleGenAI({ apiKey: 'test', httpOptions: { baseUrl: replay.origin, retryOptions: { attempts: 1 } } });
  }, 240_000);

  afterAll(async () => {
    if (own && users.length > 0) await expectInvariants({ db: own.db, http: http() } as any, users);
    if (service?.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exit;
    }
    await proxy?.close();
    await replay?.close();
    await own?.drop();
    await rm(outDir, { recursive: true, force: true });
  }, 60_000);

  const open = (userId: string, driver: Driver, extra: { signal?: AbortSignal } = {}) =>
    meter.stream({ userId, modelId: model, format: driver.format, estimate: ESTIMATE, ...extra }, driver.call);

  describe.each(drivers.map((d) => [d.format, d] as const))('%s', (_name, driver) => {
    it('completed: chunks pass through untouched, settled once from the provider usage', async () => {
      replay.behaviour = 'complete';
      const userId = await newUser(100_000);
      const before = await balanceOf(userId);
      const fromSdk: unknown[] = [];
      const stream = await meter.stream(
        { userId, modelId: model, format: driver.format, estimate: ESTIMATE },
        async (context) => {
          const source = await driver.call(context);
          return (async function* () {
            for await (const chunk of source) {
              fromSdk.push(chunk);
              yield chunk;
            }
          })();
        },
      );
      expect(stream.session).toMatchObject({ sessionId: stream.sessionId, status: 'active' });
      const seen: unknown[] = [];
      for await (const chunk of stream) seen.push(chunk);

      // The very objects the SDK yielded, in order, none added or left out.
      expect(seen.length).toBeGreaterThan(1);
      expect(seen).toHaveLength(fromSdk.length);
      seen.forEach((chunk, i) => expect(chunk).toBe(fromSdk[i]));

      // What the kit sent first (the service's answer below).
      await stream.settled.catch(() => undefined);
      expect(stream.termination).toBe('completed');
      const finalize = proxy.of('finalize', stream.sessionId);
      expect(finalize).toHaveLength(1);
      expect(finalize[0]!.body).toEqual({
        userId,
        sessionId: stream.sessionId,
        termination: 'completed',
        providerUsage: { format: driver.format, usage: RECORDINGS[driver.provider].usage },
      });
      expect(proxy.of('abort', stream.sessionId)).toHaveLength(0);
      if (driver.format === 'openai.chat') {
        expect(replay.to('openai.chat').at(-1)!.body.stream_options).toEqual({ include_usage: true });
      }

      const settled = await stream.settled;
      expect(settled).toMatchObject({ sessionId: stream.sessionId, status: 'completed' });

      const expected = creditsOf(kindsOf(driver.format, RECORDINGS[driver.provider].usage));
      const records = await recordOf(userId, stream.sessionId);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        service: 'chat-streaming',
        credits: expected,
        usageSource: 'provider',
        termination: 'completed',
        providerUsage: { format: driver.format, usage: RECORDINGS[driver.provider].usage },
      });
      expect(settled.actualCredits).toBe(expected);
      expect(await balanceOf(userId)).toBe(before - expected);
    });

    it('stopped after two chunks: the provider is stopped, the session aborted once (client_abort)', async () => {
      replay.behaviour = 'hang';
      const userId = await newUser(100_000);
      const stream = await open(userId, driver);
      const request = replay.to(driver.provider).at(-1)!;
      let read = 0;
      for await (const _chunk of stream) {
        if (++read === driver.yieldsBeforeHang) break;
      }
      await request.closedEarly; // the provider's connection was closed by the client
      await stream.settled.catch(() => undefined);
      expect(stream.termination).toBe('client_abort');

      const aborts = proxy.of('abort', stream.sessionId);
      expect(aborts).toHaveLength(1);
      expect(aborts[0]!.body).toEqual({
        userId,
        sessionId: stream.sessionId,
        termination: 'client_abort',
        ...driver.stoppedCounts,
      });
      expect(proxy.of('finalize', stream.sessionId)).toHaveLength(0);
      expect(await stream.settled).toMatchObject({ sessionId: stream.sessionId, status: 'aborted' });

      const counts = driver.stoppedCounts as any;
      const expected = counts.providerUsage
        ? creditsOf(kindsOf(driver.format, counts.providerUsage.usage))
        : creditsOf({
            input: counts.inputTokens,
            output: counts.outputTokens,
            cacheRead: 0,
            cacheWrite: 0,
            reasoning: 0,
          });
      const records = await recordOf(userId, stream.sessionId);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        service: 'chat-streaming-aborted',
        credits: expected,
        termination: 'client_abort',
        usageSource: counts.providerUsage ? 'provider' : 'reported',
      });
    });

    it('provider error before the first chunk: the SDK error is thrown, the session aborted (upstream_error), nothing charged', async () => {
      replay.behaviour = 'fail';
      const userId = await newUser(100_000);
      const before = await balanceOf(userId);
      const sessionId = `kit-${randomUUID()}`;
      const failure = await meter
        .stream({ userId, modelId: model, format: driver.format, estimate: ESTIMATE, sessionId }, driver.call)
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toBeInstanceOf(MeterRefusedError);
      expect(String((failure as { status?: number }).status ?? (failure as Error).message)).toMatch(
        String(RECORDINGS[driver.provider].error.status),
      );

      const aborts = proxy.of('abort', sessionId);
      expect(aborts).toHaveLength(1);
      expect(aborts[0]!.body).toEqual({
        userId,
        sessionId,
        termination: 'upstream_error',
        inputTokens: 0,
        outputTokens: 0,
      });
      expect(aborts[0]!.status).toBe(200);
      const records = await recordOf(userId, sessionId);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ credits: 0, termination: 'upstream_error' });
      expect(await balanceOf(userId)).toBe(before);
    });

    it('hold refused: a typed error, and the provider is never called', async () => {
      replay.behaviour = 'complete';
      const userId = await newUser(0);
      const calls = replay.requests.length;
      let called = false;
      const failure = await meter
        .stream({ userId, modelId: model, format: driver.format, estimate: ESTIMATE }, (context) => {
          called = true;
          return driver.call(context);
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toBeInstanceOf(MeterRefusedError);
      expect(failure).toMatchObject({ route: 'initialize', status: 402, code: 'INSUFFICIENT_CREDITS' });
      expect(called).toBe(false);
      expect(replay.requests.length).toBe(calls);
    });
  });

  it('a dropped settlement is retried with the same Idempotency-Key: one record, charged once', async () => {
    replay.behaviour = 'complete';
    const driver = drivers[0]!;
    const userId = await newUser(100_000);
    const before = await balanceOf(userId);
    proxy.dropNext('/api/streaming-sessions/finalize');
    const stream = await open(userId, driver);
    for await (const _chunk of stream) {
      // read it all
    }
    const settled = await stream.settled;
    const finalize = proxy.of('finalize', stream.sessionId);
    expect(finalize.map((r) => [r.status, r.dropped])).toEqual([
      [200, true],
      [200, false],
    ]);
    expect(finalize[0]!.idempotencyKey).toBeTruthy();
    expect(finalize[1]!.idempotencyKey).toBe(finalize[0]!.idempotencyKey);
    expect(finalize[1]!.body).toEqual(finalize[0]!.body);

    const expected = creditsOf(kindsOf('openai.chat', RECORDINGS['openai.chat'].usage));
    expect(settled).toMatchObject({ status: 'completed', actualCredits: expected });
    expect(await recordOf(userId, stream.sessionId)).toHaveLength(1);
    expect(await balanceOf(userId)).toBe(before - expected);

    // The same finalize again, without the key: 200 with the first result, nothing moves.
    const again = await request(serviceOrigin)
      .post('/api/streaming-sessions/finalize')
      .set('X-API-Key', serviceKey)
      .send(finalize[0]!.body);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toEqual(settled);
    expect(await balanceOf(userId)).toBe(before - expected);
  });

  it('a dropped initialize answer is retried with the same key: one session, one hold', async () => {
    replay.behaviour = 'complete';
    const driver = drivers[1]!;
    const userId = await newUser(100_000);
    proxy.dropNext('/api/streaming-sessions/initialize');
    const stream = await open(userId, driver);
    const initialize = proxy.of('initialize', stream.sessionId);
    expect(initialize.map((r) => [r.status, r.dropped])).toEqual([
      [201, true],
      [201, false],
    ]);
    expect(initialize[1]!.idempotencyKey).toBe(initialize[0]!.idempotencyKey);
    for await (const _chunk of stream) {
      // read it all
    }
    expect(await stream.settled).toMatchObject({ status: 'completed' });
    expect(await recordOf(userId, stream.sessionId)).toHaveLength(1);
  });

  it('parallel streams of one user: the holds that fit open, the others are refused, each settles once', async () => {
    replay.behaviour = 'complete';
    const driver = drivers[0]!;
    // The estimate is 14 credits (3000 × 2 + 1000 × 8 per 1,000), held as 17: 60 credits fit 3 holds at once.
    const userId = await newUser(60);
    const calls = replay.requests.length;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, async () => {
        try {
          const stream = await open(userId, driver);
          for await (const _chunk of stream) {
            // read it all
          }
          return { settled: await stream.settled };
        } catch (error) {
          return { error };
        }
      }),
    );
    const settled = outcomes.flatMap((o) => (o.settled ? [o.settled] : []));
    const refused = outcomes.flatMap((o) => (o.error ? [o.error] : []));
    expect(settled.length).toBeGreaterThanOrEqual(3);
    for (const error of refused) expect(error).toMatchObject({ status: 402, code: 'INSUFFICIENT_CREDITS' });
    const each = creditsOf(kindsOf('openai.chat', RECORDINGS['openai.chat'].usage));
    for (const answer of settled) expect(answer).toMatchObject({ status: 'completed', actualCredits: each });
    expect(await balanceOf(userId)).toBe(60 - settled.length * each);
    expect(replay.requests.length - calls).toBe(settled.length); // the refused never reached the provider
  });

  it('openai.chat without the kit’s params: no usage chunk, finalized with the kit’s own counts', async () => {
    replay.behaviour = 'complete';
    const userId = await newUser(100_000);
    const stream = await meter.stream(
      { userId, modelId: model, format: 'openai.chat', estimate: ESTIMATE },
      ({ signal }) =>
        openai.chat.completions.create(
          { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }], stream: true },
          { signal },
        ),
    );
    const chunks: any[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(await stream.settled).toMatchObject({ status: 'completed' });
    expect(proxy.of('finalize', stream.sessionId).map((r) => r.body)).toEqual([
      {
        userId,
        sessionId: stream.sessionId,
        termination: 'completed',
        inputTokens: ESTIMATE.inputTokens,
        outputTokens: 7,
      },
    ]);
    const records = await recordOf(userId, stream.sessionId);
    expect(records[0]).toMatchObject({ usageSource: 'reported', termination: 'completed' });
  });

  it('anthropic through messages.stream() (the SDK helper): the same events, settled the same', async () => {
    replay.behaviour = 'complete';
    const userId = await newUser(100_000);
    const stream = await meter.stream(
      { userId, modelId: model, format: 'anthropic', estimate: ESTIMATE },
      ({ signal }) =>
        anthropic.messages.stream(
          { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello!' }] },
          { signal },
        ),
    );
    const types: string[] = [];
    for await (const event of stream) types.push((event as { type: string }).type);
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(await stream.settled).toMatchObject({
      status: 'completed',
      actualCredits: creditsOf(kindsOf('anthropic', RECORDINGS.anthropic.usage)),
    });
  });

  it('an OpenAI stream served at flex: held at auto (the most expensive tier), settled at the flex price', async () => {
    replay.behaviour = 'complete';
    replay.rewrite = (_provider, event) => ({ ...event, service_tier: 'flex' });
    try {
      const userId = await newUser(100_000);
      const before = await balanceOf(userId);
      const driver = drivers.find((d) => d.format === 'openai.chat')!;
      const stream = await meter.stream(
        { userId, modelId: model, format: 'openai.chat', estimate: ESTIMATE, serviceTier: 'auto' },
        driver.call,
      );
      // The estimate (3,000 × 2 + 1,000 × 8) / 1000 = 14 at priority (200 %): 28, held × 6/5.
      expect(stream.session).toMatchObject({ estimatedCredits: 28, allocatedCredits: 34 });
      for await (const _chunk of stream) void _chunk;
      const settled = await stream.settled;
      expect(proxy.of('finalize', stream.sessionId)[0]!.body.providerUsage).toMatchObject({ serviceTier: 'flex' });
      // flex is half of every price, rounded once.
      const kinds = kindsOf('openai.chat', RECORDINGS['openai.chat'].usage);
      const expected = creditsOf(kinds, 50);
      expect(expected).toBeLessThan(creditsOf(kinds));
      expect(settled).toMatchObject({ status: 'completed', actualCredits: expected, refund: 34 - expected });
      expect((await recordOf(userId, stream.sessionId))[0]).toMatchObject({ credits: expected, serviceTier: 'flex' });
      expect(await balanceOf(userId)).toBe(before - expected);
    } finally {
      replay.rewrite = undefined;
    }
  });

  it('an Anthropic stream with web searches: settled with web_search_call units', async () => {
    replay.behaviour = 'complete';
    replay.rewrite = (_provider, event) =>
      event.type === 'message_delta'
        ? { ...event, usage: { ...event.usage, server_tool_use: { web_search_requests: 2 } } }
        : event;
    try {
      const userId = await newUser(100_000);
      const driver = drivers.find((d) => d.format === 'anthropic')!;
      const stream = await open(userId, driver);
      for await (const _chunk of stream) void _chunk;
      const settled = await stream.settled;
      const usage = { ...RECORDINGS.anthropic.usage, server_tool_use: { web_search_requests: 2 } };
      expect(proxy.of('finalize', stream.sessionId)[0]!.body.providerUsage).toEqual({ format: 'anthropic', usage });
      // Two searches at 10 credits each beside the tokens, one rounding.
      const expected = creditsOf(kindsOf('anthropic', usage)) + 20;
      expect(settled).toMatchObject({ status: 'completed', actualCredits: expected });
      expect((await recordOf(userId, stream.sessionId))[0]).toMatchObject({
        credits: expected,
        units: { web_search_call: 2 },
      });
    } finally {
      replay.rewrite = undefined;
    }
  });

  it('a provider usage object the service refuses (400): settled with the kit’s own counts, not left open', async () => {
    replay.behaviour = 'complete';
    const driver = drivers.find((d) => d.format === 'gemini')!;
    const userId = await newUser(100_000);
    proxy.refuseNext('/api/streaming-sessions/finalize');
    const stream = await open(userId, driver);
    let chunks = 0;
    for await (const _chunk of stream) chunks++;
    const settled = await stream.settled;
    const finalize = proxy.of('finalize', stream.sessionId);
    expect(finalize.map((r) => [r.status, Object.keys(r.body).sort()])).toEqual([
      [400, ['providerUsage', 'sessionId', 'termination', 'userId']],
      [200, ['inputTokens', 'outputTokens', 'sessionId', 'termination', 'userId']],
    ]);
    expect(finalize[1]!.idempotencyKey).not.toBe(finalize[0]!.idempotencyKey);
    expect(finalize[1]!.body).toMatchObject({ inputTokens: ESTIMATE.inputTokens, outputTokens: chunks });
    expect(settled).toMatchObject({ status: 'completed' });
    const records = await recordOf(userId, stream.sessionId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ usageSource: 'reported', termination: 'completed' });
  });

  it("the caller's signal stops a stream being read: aborted once with what was seen", async () => {
    replay.behaviour = 'hang';
    const driver = drivers.find((d) => d.format === 'anthropic')!;
    const userId = await newUser(100_000);
    const stop = new AbortController();
    const stream = await open(userId, driver, { signal: stop.signal });
    const request = replay.to('anthropic').at(-1)!;
    let read = 0;
    const reading = (async () => {
      for await (const _chunk of stream) {
        if (++read === driver.yieldsBeforeHang) stop.abort();
      }
    })().catch((error: unknown) => error);
    await request.closedEarly;
    await reading;
    const settled = await stream.settled;
    expect(settled).toMatchObject({ status: 'aborted' });
    const aborts = proxy.of('abort', stream.sessionId);
    expect(aborts.map((a) => a.body.termination)).toEqual(['client_abort']);
    expect(aborts[0]!.body.providerUsage).toEqual({ format: 'anthropic', usage: ANTHROPIC_START_USAGE });
  });

  it('cancel() on a stream nobody reads: the provider is stopped and the session aborted', async () => {
    replay.behaviour = 'hang';
    const driver = drivers.find((d) => d.format === 'gemini')!;
    const userId = await newUser(100_000);
    const stream: MeteredStream<unknown> = await open(userId, driver);
    const settled = await stream.cancel();
    expect(settled).toMatchObject({ status: 'aborted' });
    expect(await stream.settled).toEqual(settled);
    const aborts = proxy.of('abort', stream.sessionId);
    // Nothing was read: the prompt (accepted by the provider) at its estimate, no output.
    expect(aborts.map((a) => a.body)).toEqual([
      {
        userId,
        sessionId: stream.sessionId,
        termination: 'client_abort',
        inputTokens: ESTIMATE.inputTokens,
        outputTokens: 0,
      },
    ]);
  });

  describe('the AI SDK middleware (ai + @ai-sdk/openai)', () => {
    const provider = () => createOpenAI({ apiKey: 'sk-test', baseURL: `${replay.origin}/v1` });

    it('streamText completed: held before the call, settled from the finish part’s provider usage', async () => {
      replay.behaviour = 'complete';
      const userId = await newUser(100_000);
      const calls = replay.to('openai.chat').length;
      const middleware = meterMiddleware(meter, {
        userId,
        modelId: model,
        format: 'openai.chat',
        estimate: ESTIMATE,
      });
      const result = streamText({
        model: wrapLanguageModel({ model: provider().chat('gpt-4o'), middleware }),
        prompt: 'Hello!',
        maxRetries: 0,
      });
      expect(await result.text).toBe('Hello! How can I help?');
      const stream = await middleware.last;
      const settled = await middleware.settled;
      expect(settled).toMatchObject({ status: 'completed' });
      expect(replay.to('openai.chat')).toHaveLength(calls + 1);
      const finalize = proxy.of('finalize', stream.sessionId);
      expect(finalize).toHaveLength(1);
      // The AI SDK hands over the provider's usage object as it parsed it (fields it knows).
      expect(finalize[0]!.body).toMatchObject({
        termination: 'completed',
        providerUsage: {
          format: 'openai.chat',
          usage: {
            prompt_tokens: 2006,
            completion_tokens: 300,
            prompt_tokens_details: { cached_tokens: 1920 },
            completion_tokens_details: { reasoning_tokens: 192 },
          },
        },
      });
      const records = await recordOf(userId, stream.sessionId);
      expect(records[0]).toMatchObject({
        credits: creditsOf(kindsOf('openai.chat', RECORDINGS['openai.chat'].usage)),
        usageSource: 'provider',
      });
    });

    it('streamText on the Responses API (openai(…)): settled from its response.usage', async () => {
      replay.behaviour = 'complete';
      const userId = await newUser(100_000);
      const middleware = meterMiddleware(meter, {
        userId,
        modelId: model,
        format: 'openai.responses',
        estimate: ESTIMATE,
      });
      const result = streamText({
        model: wrapLanguageModel({ model: provider().responses('gpt-4.1'), middleware }),
        prompt: 'Hello!',
        maxRetries: 0,
      });
      expect(await result.text).toBe('Hi there! How can I assist you today?');
      const stream = await middleware.last;
      expect(await middleware.settled).toMatchObject({
        status: 'completed',
        actualCredits: creditsOf(kindsOf('openai.responses', RECORDINGS['openai.responses'].usage)),
      });
      expect(proxy.of('finalize', stream.sessionId)[0]!.body.providerUsage).toEqual({
        format: 'openai.responses',
        usage: RECORDINGS['openai.responses'].usage,
      });
    });

    it('streamText stopped by its abortSignal: the provider is stopped, the session aborted once', async () => {
      replay.behaviour = 'hang';
      const userId = await newUser(100_000);
      const middleware = meterMiddleware(meter, { userId, modelId: model, format: 'openai.chat', estimate: ESTIMATE });
      const stop = new AbortController();
      const result = streamText({
        model: wrapLanguageModel({ model: provider().chat('gpt-4o'), middleware }),
        prompt: 'Hello!',
        abortSignal: stop.signal,
        maxRetries: 0,
      });
      let deltas = 0;
      for await (const part of result.fullStream) {
        if (part.type === 'text-delta' && ++deltas === 2) stop.abort();
      }
      await replay.to('openai.chat').at(-1)!.closedEarly;
      const stream = await middleware.last;
      expect(await middleware.settled).toMatchObject({ status: 'aborted' });
      const aborts = proxy.of('abort', stream.sessionId);
      expect(aborts.map((a) => a.body)).toEqual([
        {
          userId,
          sessionId: stream.sessionId,
          termination: 'client_abort',
          inputTokens: ESTIMATE.inputTokens,
          outputTokens: 2,
        },
      ]);
    });

    it('hold refused: streamText fails with the typed error and the provider is never called', async () => {
      const userId = await newUser(0);
      const calls = replay.requests.length;
      const middleware = meterMiddleware(meter, { userId, modelId: model, format: 'openai.chat', estimate: ESTIMATE });
      const errors: unknown[] = [];
      const result = streamText({
        model: wrapLanguageModel({ model: provider().chat('gpt-4o'), middleware }),
        prompt: 'Hello!',
        maxRetries: 0,
        onError: ({ error }) => void errors.push(error),
      });
      await result.consumeStream();
      expect(errors[0]).toBeInstanceOf(MeterRefusedError);
      expect(replay.requests.length).toBe(calls);
    });
  });
  describe('W11: generateText through the AI SDK middleware is metered too', () => {
    const provider = () => createOpenAI({ apiKey: 'sk-test', baseURL: `${replay.origin}/v1` });

    it('held before the call, settled once from the answer’s provider usage', async () => {
      replay.behaviour = 'complete';
      const userId = await newUser(100_000);
      const calls = replay.to('openai.chat').length;
      const middleware = meterMiddleware(meter, { userId, modelId: model, format: 'openai.chat', estimate: ESTIMATE });
      const result = await generateText({
        model: wrapLanguageModel({ model: provider().chat('gpt-4o'), middleware }),
        prompt: 'Hello!',
        maxRetries: 0,
      });
      expect(result.text).toBe('Hello! How can I help?');
      expect(replay.to('openai.chat')).toHaveLength(calls + 1);
      expect(replay.to('openai.chat').at(-1)!.body.stream).not.toBe(true);
      const stream = await middleware.last;
      expect(await middleware.settled).toMatchObject({ status: 'completed' });
      const finalize = proxy.of('finalize', stream.sessionId);
      expect(finalize).toHaveLength(1);
      expect(finalize[0]!.body).toMatchObject({
        termination: 'completed',
        providerUsage: { format: 'openai.chat', usage: { prompt_tokens: 2006, completion_tokens: 300 } },
      });
      const records = await recordOf(userId, stream.sessionId);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        credits: creditsOf(kindsOf('openai.chat', RECORDINGS['openai.chat'].usage)),
        usageSource: 'provider',
      });
    });

    it('a model the account may not use: refused before the provider is called', async () => {
      const userId = await newUser(100_000);
      const token = jwt.sign({ sub: userId, role: 'user', type: 'access' }, TEST_JWT_SECRET, {
        algorithm: 'HS256',
        expiresIn: 600,
      });
      const key = await http()
        .post('/api/api-keys')
        .set({ Authorization: `Bearer ${token}` })
        .send({ name: 'limited', permissions: ['usage:write'], models: ['other-models-*'] });
      expect(key.status, JSON.stringify(key.body)).toBe(201);
      const calls = replay.requests.length;
      const middleware = meterMiddleware(meter, {
        userId,
        apiKeyId: key.body.id,
        modelId: model,
        format: 'openai.chat',
        estimate: ESTIMATE,
      });
      const refused = await generateText({
        model: wrapLanguageModel({ model: provider().chat('gpt-4o'), middleware }),
        prompt: 'Hello!',
        maxRetries: 0,
      }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(MeterRefusedError);
      expect((refused as MeterRefusedError).code).toBe('MODEL_NOT_ENTITLED');
      expect(replay.requests.length).toBe(calls);
    });
  });

  describe('W11: the model the provider answered with is compared with the one held for', () => {
    /** The models each recording's answer names, priced as the test model. */
    const ANSWERED: Record<Provider, string> = {
      'openai.chat': 'gpt-4o-2024-08-06',
      'openai.responses': 'gpt-4.1-2025-04-14',
      anthropic: 'claude-sonnet-4-5-20250929',
      gemini: 'gemini-2.5-flash',
    };
    const MINI = 'gpt-4o-mini-2024-07-18';
    const models = () => ({
      ...Object.fromEntries(Object.values(ANSWERED).map((m) => [m, model])),
      [MINI]: 'kit-mini',
    });

    it('each provider’s answer names its model; priced as the model held for, no mismatch', async () => {
      replay.behaviour = 'complete';
      const mismatches: unknown[] = [];
      const mapped = createMeter({
        baseUrl: proxy.origin,
        apiKey: serviceKey,
        models: models(),
        onModelMismatch: (m) => void mismatches.push(m),
      });
      for (const driver of drivers) {
        const userId = await newUser(100_000);
        const stream = await mapped.stream(
          { userId, modelId: model, format: driver.format, estimate: ESTIMATE },
          driver.call,
        );
        for await (const _chunk of stream) void _chunk;
        expect(await stream.settled).toMatchObject({ status: 'completed' });
        expect({ format: driver.format, model: stream.providerModel }).toEqual({
          format: driver.format,
          model: ANSWERED[driver.provider],
        });
        expect(stream.modelMismatch).toBeUndefined();
      }
      expect(mismatches).toEqual([]);
    });

    it('an answer from another model: flagged once, settled once at the model held for', async () => {
      replay.behaviour = 'complete';
      replay.rewrite = (provider, event) => (provider === 'openai.chat' ? { ...event, model: MINI } : event);
      try {
        const mismatches: unknown[] = [];
        const mapped = createMeter({
          baseUrl: proxy.origin,
          apiKey: serviceKey,
          models: models(),
          onModelMismatch: (m) => void mismatches.push(m),
        });
        const userId = await newUser(100_000);
        const driver = drivers.find((d) => d.format === 'openai.chat')!;
        const stream = await mapped.stream(
          { userId, modelId: model, format: 'openai.chat', estimate: ESTIMATE },
          driver.call,
        );
        for await (const _chunk of stream) void _chunk;
        const settled = await stream.settled;
        const flagged = { sessionId: stream.sessionId, modelId: model, providerModel: MINI, pricedAs: 'kit-mini' };
        expect(stream.modelMismatch).toEqual(flagged);
        expect(mismatches).toEqual([flagged]);
        expect(proxy.of('finalize', stream.sessionId)).toHaveLength(1);
        const expected = creditsOf(kindsOf('openai.chat', RECORDINGS['openai.chat'].usage));
        expect(settled).toMatchObject({ status: 'completed', actualCredits: expected });
        expect((await recordOf(userId, stream.sessionId))[0]).toMatchObject({ modelId: model, credits: expected });
        // Without a map the kit draws no conclusion: the model is read, nothing is flagged.
        const plain = await meter.stream(
          { userId, modelId: model, format: 'openai.chat', estimate: ESTIMATE },
          driver.call,
        );
        for await (const _chunk of plain) void _chunk;
        await plain.settled;
        expect(plain.providerModel).toBe(MINI);
        expect(plain.modelMismatch).toBeUndefined();
      } finally {
        replay.rewrite = undefined;
      }
    });

    it('generateText answered by a model the map does not name: flagged with pricedAs null', async () => {
      replay.behaviour = 'complete';
      replay.rewrite = (provider, event) => (provider === 'openai.chat' ? { ...event, model: 'gpt-9-unknown' } : event);
      try {
        const mapped = createMeter({ baseUrl: proxy.origin, apiKey: serviceKey, models: models() });
        const userId = await newUser(100_000);
        const middleware = meterMiddleware(mapped, {
          userId,
          modelId: model,
          format: 'openai.chat',
          estimate: ESTIMATE,
        });
        const provider = createOpenAI({ apiKey: 'sk-test', baseURL: `${replay.origin}/v1` });
        const result = await generateText({
          model: wrapLanguageModel({ model: provider.chat('gpt-4o'), middleware }),
          prompt: 'Hello!',
          maxRetries: 0,
        });
        expect(result.response.modelId).toBe('gpt-9-unknown');
        expect(await middleware.settled).toMatchObject({ status: 'completed' });
        const stream = await middleware.last;
        expect(stream.modelMismatch).toEqual({
          sessionId: stream.sessionId,
          modelId: model,
          providerModel: 'gpt-9-unknown',
          pricedAs: null,
        });
      } finally {
        replay.rewrite = undefined;
      }
    });
  });

  it('no path left a session open: every user of this file has no active session', async () => {
    expect(users.length).toBeGreaterThan(20);
    for (const userId of users) {
      const res = await http().get(`/api/streaming-sessions/active/${userId}`).set(admin);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect({ userId, active: res.body.items }).toEqual({ userId, active: [] });
    }
  });
});

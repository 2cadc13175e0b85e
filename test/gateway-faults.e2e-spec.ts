import { randomInt, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SessionExpiryJob } from '../src/streaming-sessions/session-expiry.job.js';
import { TEST_JWT_SECRET } from './support/app.js';
import { buildServer } from './support/build-server.js';
import { expireSessionNow } from './support/clock.js';
import { type GatewayHarness, startGateway } from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { type ServiceProcess, spawnService } from './support/service-process.js';
import { until } from './support/until.js';

const root = fileURLToPath(new URL('..', import.meta.url));
/**
 * The full figure is 500 streams and 20 kills (GATEWAY_FAULT_STREAMS=500
 * GATEWAY_FAULT_KILLS=20); the defaults keep a CI run near a minute.
 */
const STREAMS = Number(process.env.GATEWAY_FAULT_STREAMS ?? 60);
const KILLS = Number(process.env.GATEWAY_FAULT_KILLS ?? 3);

interface Sent {
  requestId: string;
  /** When the client went away (ms since the epoch); null: it was still reading when the instance died. */
  abortedAt: number | null;
}

/**
 * Streams through a built server run as its own process, against the provider stand-in (which sends
 * each answer's first events and then waits): every client goes away at a random point (once its
 * request is upstream but before the answer's headers, right after them, or after its first
 * events), and the instance is killed with SIGKILL while one stream of each round is still open. After the
 * last round the sessions left open come due (their rows moved, docs/gateway.md "Settlement") and
 * another instance's expiry settles them: every request has exactly one record, nothing is charged
 * beyond what was held, no hold is left, and the upstream saw each departed client's request
 * cancelled within a second.
 */
describe('gateway faults: clients gone at random points, instances killed mid-stream', () => {
  let own: OwnDatabase;
  let h: GatewayHarness;
  let service: ServiceProcess | null = null;
  const outDir = path.join(root, 'node_modules', '.cache', `e2e-gateway-faults-build-${process.pid}`);

  beforeAll(async () => {
    own = await ownDatabase('gateway_faults');
    h = await startGateway({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    await buildServer(outDir);
  }, 180_000);
  afterAll(async () => {
    if (service && service.child.exitCode === null) service.child.kill('SIGKILL');
    await h?.close();
    await own?.drop();
    await rm(outDir, { recursive: true, force: true });
  });

  async function startInstance(): Promise<string> {
    service = spawnService(path.join(outDir, 'src', 'main.js'), root, {
      NODE_ENV: 'test',
      DATABASE_URL: own.url,
      DB_MIGRATIONS_RUN: 'false',
      JWT_ACCESS_SECRET: TEST_JWT_SECRET,
      WEBHOOK_SECRET_KEY: 'gateway-faults-webhook-secret-0123456789abcdef',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      JOBS_ENABLED: 'false',
      ...h.env,
    });
    return `http://127.0.0.1:${await service.port}`;
  }

  /** When a client goes: before the answer's headers, right after them, after the first events, or never. */
  type Leave = 'before-headers' | 'after-headers' | 'after-events' | 'never';
  const LEAVES: Leave[] = ['before-headers', 'after-headers', 'after-events'];

  /** One streamed chat request whose client leaves as `leave` says. */
  async function stream(origin: string, key: string, leave: Leave): Promise<Sent> {
    const requestId = `gw-fault-${randomUUID()}`;
    const stop = new AbortController();
    const sent: Sent = { requestId, abortedAt: null };
    const abort = () => {
      sent.abortedAt = Date.now();
      stop.abort();
    };
    const answer = fetch(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({
        model: h.model,
        messages: [{ role: 'user', content: requestId }],
        max_tokens: 100,
        stream: true,
      }),
      signal: stop.signal,
    }).catch(() => null);
    if (leave === 'before-headers') {
      // Once the request is upstream (it was admitted), before its answer's headers are read.
      await until('the request is upstream', () => upstreamOf(requestId) !== undefined, 10_000, 5);
      abort();
      await answer;
      return sent;
    }
    const res = await answer;
    expect(res?.status).toBe(200);
    const reader = res!.body!.getReader();
    if (leave === 'never') return sent;
    if (leave === 'after-events') expect((await reader.read()).done).toBe(false);
    abort();
    await reader.cancel().catch(() => undefined);
    return sent;
  }

  const upstreamOf = (requestId: string) =>
    h.standIn.requests.find((r) => (r.body.messages as { content: string }[] | undefined)?.[0]?.content === requestId);

  it(
    'every request settles once, within its hold, and departed clients are cancelled upstream',
    // The full figure starts 21 instances and runs 500 streams: about a second a stream on a busy machine.
    { timeout: Math.max(300_000, (STREAMS + KILLS * 10) * 1500) },
    async () => {
      const user = await h.f.newUser({ credits: 10_000_000 });
      const key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
      h.standIn.mode = 'hang';
      const sent: Sent[] = [];
      const perRound = Math.ceil(STREAMS / (KILLS + 1));
      for (let round = 0, left = STREAMS; round <= KILLS; round++) {
        const origin = await startInstance();
        const batch = Math.min(perRound, left);
        left -= batch;
        sent.push(
          ...(await Promise.all(
            Array.from({ length: batch }, () => stream(origin, key, LEAVES[randomInt(0, LEAVES.length)])),
          )),
        );
        if (round < KILLS) {
          // Killed with a stream open (its first events received), and the departed ones' settlements
          // perhaps still under way.
          sent.push(await stream(origin, key, 'never'));
          service!.child.kill('SIGKILL');
        } else service!.child.kill('SIGTERM');
        await service!.exit;
      }
      const gone = sent.filter((s) => s.abortedAt !== null);
      expect(gone.length).toBe(STREAMS);

      // The upstream saw every departed client's request cancelled within a second of it leaving.
      let slowestCancel = 0;
      for (const s of gone) {
        const upstream = upstreamOf(s.requestId)!;
        expect(upstream, s.requestId).toBeDefined();
        await until(`${s.requestId} is cancelled upstream`, () => upstream.cancelledAt !== null, 2000);
        expect(upstream.cancelledAt! - s.abortedAt!).toBeLessThan(1000);
        slowestCancel = Math.max(slowestCancel, upstream.cancelledAt! - s.abortedAt!);
      }

      // Another instance (the in-process app) expires what the dead ones left open, as if the TTL had passed.
      const { rows: open } = await h.t.db.query<{ session_id: string }>(
        `SELECT session_id FROM streaming_sessions WHERE user_id = $1 AND status = 'active'`,
        [user.id],
      );
      for (const s of open) await expireSessionNow(h.t.db, s.session_id);
      await h.t.app.get(SessionExpiryJob).expireAbandoned();

      const { rows: records } = await h.t.db.query<{ request_id: string; credits: number; reason: string }>(
        `SELECT metadata->'gateway'->>'requestId' AS request_id, credits, metadata->'gateway'->>'reason' AS reason
         FROM usage_records WHERE user_id = $1`,
        [user.id],
      );
      const byRequest = new Map<string, number>();
      for (const r of records) byRequest.set(r.request_id, (byRequest.get(r.request_id) ?? 0) + 1);
      expect(records).toHaveLength(sent.length);
      for (const s of sent) expect(byRequest.get(s.requestId), s.requestId).toBe(1);
      // The streams open when an instance died were settled by the expiry.
      for (const s of sent.filter((x) => x.abortedAt === null))
        expect(records.find((r) => r.request_id === s.requestId)!.reason).toBe('expired');
      expect(records.every((r) => ['client_abort', 'expired'].includes(r.reason))).toBe(true);

      const { rows: sessions } = await h.t.db.query<{ active: number; held: string }>(
        `SELECT count(*) FILTER (WHERE status = 'active')::int AS active, sum(allocated_credits)::text AS held
         FROM streaming_sessions WHERE user_id = $1`,
        [user.id],
      );
      expect(sessions[0].active).toBe(0);
      const charged = records.reduce((sum, r) => sum + r.credits, 0);
      expect(charged).toBeLessThanOrEqual(Number(sessions[0].held));
      const reasons = records.reduce<Record<string, number>>(
        (n, r) => ({ ...n, [r.reason]: (n[r.reason] ?? 0) + 1 }),
        {},
      );
      console.log(
        `gateway faults: ${sent.length} requests (${STREAMS} departed, ${KILLS} killed mid-stream), ` +
          `${records.length} records ${JSON.stringify(reasons)}, charged ${charged} of ${sessions[0].held} held, ` +
          `${sessions[0].active} sessions left active, slowest upstream cancel ${slowestCancel} ms`,
      );
      expect(await h.f.available(user.id)).toBe(10_000_000 - charged);
      await expectInvariants(h.t, h.users);
    },
  );
});

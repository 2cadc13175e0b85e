import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { FixtureUser } from './support/fixtures.js';
import { type GatewayHarness, recordOf, startGateway } from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';
import { recordSent, type SentStatement } from './support/statements.js';
import { until } from './support/until.js';

/**
 * One account's gateway requests at once (docs/gateway.md "Requests together"): their holds, through
 * one key, share a hold statement (src/streaming-sessions/coalesced-holds.ts), each held, answered,
 * charged and settled exactly as the same request alone; a balance that covers only some of them
 * admits exactly those, refuses the rest with the 402 a request alone gets, and never goes below zero.
 * Requests of many keys share statements too, each hold through its own key and checked on its own.
 */
describe('gateway: one account’s requests together', () => {
  let h: GatewayHarness;
  const AT_ONCE = 40;
  const ROUTES = {
    chat: {
      path: '/v1/chat/completions',
      body: (model: string) => ({ model, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 200 }),
    },
    messages: {
      path: '/v1/messages',
      body: (model: string) => ({ model, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 200 }),
    },
  } as const;
  type Route = keyof typeof ROUTES;

  beforeAll(async () => {
    h = await startGateway();
    // Usage within every request's bounds: each is charged what it used, never beyond its hold.
    h.standIn.kinds = { input: 5, cacheRead: 0, cacheWrite: 0, output: 20, reasoning: 0 };
  });
  afterAll(() => h.close());
  afterEach(async () => {
    h.standIn.delayMs = 0;
    await expectInvariants(h.t, h.users);
  });

  const send = (key: string, route: Route, requestId = `gw-together-${randomUUID()}`) =>
    fetch(`${h.origin}${ROUTES[route].path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'x-api-key': key,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      body: JSON.stringify(ROUTES[route].body(h.model)),
    });

  /** What a request's session held and what its settlement charged, by its request id. */
  async function moneyOf(requestId: string) {
    const record = await recordOf(h, requestId);
    const { rows } = await h.t.db.query(
      `SELECT s.status, s.estimated_credits, s.allocated_credits, s.actual_credits, s.shortfall,
              (SELECT count(*)::int FROM usage_records r WHERE r.metadata->>'sessionId' = s.session_id) AS records,
              (SELECT count(*)::int FROM credit_ledger l
                WHERE l.session_id = s.session_id AND l.account_id = s.account_id AND l.kind = 'hold') AS holds
         FROM streaming_sessions s WHERE s.session_id = $1`,
      [record.metadata.sessionId],
    );
    expect(rows).toHaveLength(1);
    return { credits: record.credits, reason: record.metadata.gateway.reason, ...rows[0] };
  }

  const holdStatements = (sent: SentStatement[]) => ({
    together: sent.filter((s) => s.name?.startsWith('streaming_sessions_held_together_if')).length,
    alone: sent.filter((s) => s.name?.startsWith('streaming_session_with_hold_if')).length,
  });

  async function keyOf(credits: number): Promise<{ user: FixtureUser; key: string; keyId: string }> {
    const user = await h.f.newUser({ credits });
    const { key, id } = await h.f.apiKey(user, { permissions: ['gateway'] });
    return { user, key, keyId: id };
  }

  it(`holds ${AT_ONCE} requests of one key together, each answered, held and charged as alone, settled once`, async () => {
    const credits = 10_000_000;
    const { user, key } = await keyOf(credits);
    // Each route's request alone first: its answer, its hold and its charge are what each of the
    // burst's must be. A request alone sends the statement of one.
    const alone = {} as Record<Route, { text: string; money: Awaited<ReturnType<typeof moneyOf>> }>;
    for (const route of Object.keys(ROUTES) as Route[]) {
      const id = `gw-together-alone-${randomUUID()}`;
      const { result: text, sent } = await recordSent(async () => {
        const res = await send(key, route, id);
        expect(res.status).toBe(200);
        return res.text();
      });
      expect(holdStatements(sent)).toEqual({ together: 0, alone: 1 });
      alone[route] = { text, money: await moneyOf(id) };
    }
    const afterAlone = await h.f.available(user.id);

    const burst = Array.from({ length: AT_ONCE }, (_, k) => ({
      route: (k % 2 === 0 ? 'chat' : 'messages') as Route,
      id: `gw-together-${k}-${randomUUID()}`,
    }));
    const { result: answers, sent } = await recordSent(() =>
      Promise.all(
        burst.map(async ({ route, id }) => {
          const res = await send(key, route, id);
          return { status: res.status, requestId: res.headers.get('x-request-id'), text: await res.text() };
        }),
      ),
    );
    // The holds went out together: fewer statements than requests, and at least one of many.
    const holds = holdStatements(sent);
    expect(holds.together).toBeGreaterThan(0);
    expect(holds.together + holds.alone).toBeLessThan(AT_ONCE);

    let charged = 0;
    for (const [k, { route, id }] of burst.entries()) {
      expect(answers[k]).toEqual({ status: 200, requestId: id, text: alone[route].text });
      const money = await moneyOf(id);
      // The same hold and charge as alone, within the hold, settled once: one record, one hold line.
      expect(money).toEqual(alone[route].money);
      expect(money).toMatchObject({ status: 'completed', reason: 'reported', records: 1, holds: 1, shortfall: 0 });
      expect(money.credits).toBeLessThanOrEqual(money.allocated_credits);
      charged += money.credits;
    }
    expect(await h.f.available(user.id)).toBe(afterAlone - charged);
    const { rows } = await h.t.db.query(
      `SELECT count(*)::int AS active FROM streaming_sessions
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND status = 'active'`,
      [user.id],
    );
    expect(rows[0].active).toBe(0);
  });

  it('admits exactly the requests the balance covers; the rest get the 402 of a request alone', async () => {
    // The worst case each holds, read from a request alone on another account.
    const probe = await keyOf(1_000_000);
    const probeId = `gw-together-probe-${randomUUID()}`;
    expect((await send(probe.key, 'chat', probeId)).status).toBe(200);
    const hold = (await moneyOf(probeId)).allocated_credits as number;

    const affordable = 12;
    const { user, key } = await keyOf(affordable * hold);
    // Answers held back upstream, so no settlement gives credits back while the burst's holds are decided.
    h.standIn.delayMs = 3000;
    const before = h.standIn.requests.length;
    const answers: { status: number; text: string }[] = [];
    const { result: burst, sent } = await recordSent(async () => {
      const sending = Array.from({ length: AT_ONCE }, () =>
        send(key, 'chat').then(async (res) => {
          const answer = { status: res.status, text: await res.text() };
          answers.push(answer);
          return answer;
        }),
      );
      await until('the refused requests are answered', async () => answers.length >= AT_ONCE - affordable);
      return sending;
    });
    // Admitted and refused holds shared statements.
    expect(holdStatements(sent).together).toBeGreaterThan(0);
    expect(answers.every((a) => a.status === 402)).toBe(true);
    expect(await h.f.available(user.id)).toBe(0);
    await until(
      'the admitted requests reach the upstream',
      async () => h.standIn.requests.length - before >= affordable,
    );
    expect(h.standIn.requests.length - before).toBe(affordable);
    // A request alone now, with every credit held, is refused the same way.
    const lone = await send(key, 'chat');
    const loneText = await lone.text();
    expect(lone.status).toBe(402);
    expect(JSON.parse(loneText)).toMatchObject({ error: { code: 'INSUFFICIENT_CREDITS' } });
    for (const refused of answers) expect(refused.text).toBe(loneText);

    const all = await Promise.all(burst);
    expect(all.filter((a) => a.status === 200)).toHaveLength(affordable);
    const sessions = async () =>
      (
        await h.t.db.query(
          `SELECT count(*)::int AS sessions,
                  count(*) FILTER (WHERE status = 'active')::int AS active,
                  count(*) FILTER (WHERE actual_credits > allocated_credits OR shortfall > 0)::int AS beyond,
                  COALESCE(sum(actual_credits), 0)::int AS charged
             FROM streaming_sessions WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
          [user.id],
        )
      ).rows[0] as { sessions: number; active: number; beyond: number; charged: number };
    await until('the admitted requests are settled', async () => (await sessions()).active === 0);
    // Only the admitted requests opened a session, each settled once within its hold.
    const settled = await sessions();
    expect(settled).toMatchObject({ sessions: affordable, beyond: 0 });
    expect(await h.f.available(user.id)).toBe(affordable * hold - settled.charged);
  });

  it('holds the requests of many keys together, each through its own key, refused or held as alone', async () => {
    // A request alone: its answer, hold and charge are what every admitted request of the burst gets.
    const probe = await keyOf(1_000_000);
    const probeId = `gw-many-probe-${randomUUID()}`;
    const probeRes = await send(probe.key, 'chat', probeId);
    expect(probeRes.status).toBe(200);
    const aloneText = await probeRes.text();
    const aloneMoney = await moneyOf(probeId);
    const hold = aloneMoney.allocated_credits as number;

    const rich = await Promise.all(Array.from({ length: 16 }, () => keyOf(1_000_000)));
    // A key whose own limit covers two holds, an account whose balance covers two, and a key revoked
    // after the instance read it (it still remembers the key as read).
    const limited = await h.f.newUser({ credits: 1_000_000 });
    const limitedKey = await h.f.apiKey(limited, { permissions: ['gateway'], creditLimit: 2 * hold });
    const poor = await keyOf(2 * hold);
    const revoked = await keyOf(1_000_000);
    expect((await send(revoked.key, 'chat')).status).toBe(200);
    await until('the revoked key’s first request is settled', async () => {
      const { rows } = await h.t.db.query(
        `SELECT count(*)::int AS active FROM streaming_sessions WHERE opened_by_api_key_id = $1 AND status = 'active'`,
        [revoked.keyId],
      );
      return rows[0].active === 0;
    });
    const revokedBefore = await h.f.available(revoked.user.id);
    await h.t.db.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [revoked.keyId]);

    // Answers held back upstream, so no settlement gives credits back while the burst's holds are decided.
    h.standIn.delayMs = 3000;
    const upstream = h.standIn.requests.length;
    const burst = [
      ...rich.map((r) => ({ kind: 'rich', key: r.key, id: `gw-many-${randomUUID()}` })),
      ...[1, 2, 3, 4].flatMap(() => [
        { kind: 'limited', key: limitedKey.key, id: `gw-many-limited-${randomUUID()}` },
        { kind: 'poor', key: poor.key, id: `gw-many-poor-${randomUUID()}` },
        { kind: 'revoked', key: revoked.key, id: `gw-many-revoked-${randomUUID()}` },
      ]),
    ];
    const answered: { kind: string; status: number }[] = [];
    const { result: sending, sent } = await recordSent(async () => {
      const all = burst.map(({ kind, key, id }) =>
        send(key, 'chat', id).then(async (res) => {
          const answer = { kind, id, status: res.status, text: await res.text() };
          answered.push(answer);
          return answer;
        }),
      );
      // The refusals come back at once: 2 of the limited key's, 2 of the poor account's, 4 revoked.
      await until('the refused requests are answered', async () => answered.length >= 8);
      return all;
    });
    // Keys of many callers shared hold statements: fewer statements than keys, at least one of many.
    const holds = holdStatements(sent);
    expect(holds.together).toBeGreaterThan(0);
    expect(holds.together + holds.alone).toBeLessThan(rich.length + 3);
    // Requests refused now, alone, with every credit of the key's limit and of the poor account held.
    const loneLimited = await send(limitedKey.key, 'chat');
    const lonePoor = await send(poor.key, 'chat');
    expect([loneLimited.status, lonePoor.status]).toEqual([402, 402]);
    const [limitedText, poorText] = [await loneLimited.text(), await lonePoor.text()];
    expect(JSON.parse(poorText)).toMatchObject({ error: { code: 'INSUFFICIENT_CREDITS' } });
    expect(limitedText).not.toBe(poorText);

    const answers = await Promise.all(sending);
    const of = (kind: string) => answers.filter((a) => a.kind === kind);
    expect(of('revoked').map((a) => [a.status, JSON.parse(a.text).error.code])).toEqual(
      Array(4).fill([401, 'UNAUTHORIZED']),
    );
    for (const [kind, text] of [
      ['limited', limitedText],
      ['poor', poorText],
    ]) {
      expect(of(kind).filter((a) => a.status === 200)).toHaveLength(2);
      expect(
        of(kind)
          .filter((a) => a.status !== 200)
          .map((a) => [a.status, a.text]),
      ).toEqual(Array(2).fill([402, text]));
    }
    expect(h.standIn.requests.length - upstream).toBe(rich.length + 4);
    expect(await h.f.available(revoked.user.id)).toBe(revokedBefore);

    // Every admitted request held and was charged as alone, through its own key, settled once.
    const keyIds = new Map<string, string>([
      ...rich.map((r): [string, string] => [r.key, r.keyId]),
      [limitedKey.key, limitedKey.id],
      [poor.key, poor.keyId],
    ]);
    for (const { kind, key, id } of burst) {
      const answer = answers.find((a) => a.id === id)!;
      if (answer.status !== 200) continue;
      expect(answer.text).toBe(aloneText);
      expect(await moneyOf(id)).toEqual(aloneMoney);
      const { rows } = await h.t.db.query(
        `SELECT ch.api_key_id FROM credit_holds ch JOIN usage_records r ON r.metadata->>'sessionId' = ch.session_id
          WHERE r.metadata->'gateway'->>'requestId' = $1`,
        [id],
      );
      expect(rows, kind).toEqual([{ api_key_id: keyIds.get(key) }]);
    }
  });

  it('refuses every request of a burst whose key was revoked after it was read, holding nothing', async () => {
    const { user, key, keyId } = await keyOf(1_000_000);
    const served = `gw-together-served-${randomUUID()}`;
    expect((await send(key, 'chat', served)).status).toBe(200);
    await recordOf(h, served);
    const before = await h.f.available(user.id);
    // Revoked behind the instance's back: it still remembers the key as read (docs/gateway.md "Added latency").
    await h.t.db.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [keyId]);
    const upstream = h.standIn.requests.length;
    const { result: answers, sent } = await recordSent(() =>
      Promise.all(
        Array.from({ length: AT_ONCE }, async () => {
          const res = await send(key, 'chat');
          return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code };
        }),
      ),
    );
    // The statements of many checked the key too: false, they held none of their holds.
    expect(holdStatements(sent).together).toBeGreaterThan(0);
    expect(answers.every((a) => a.status === 401 && a.code === 'UNAUTHORIZED')).toBe(true);
    expect(h.standIn.requests.length).toBe(upstream);
    expect(await h.f.available(user.id)).toBe(before);
  });
});

import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { UsageCorrectionsService } from '../src/usage/corrections/usage-corrections.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { type BurstAnswer, BurstClient } from './support/burst-client.js';
import { Fixtures, type FixtureUser, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Corrections in parallel beside metering (docs/usage.md "Corrections"): a correction runs on the one
 * connection that holds its locks, so 200 at once, on one account or across many, never wait for a
 * second connection that the other corrections hold (the pool jammed until its 5 s wait ran out and
 * answered 503), and metering of other accounts keeps answering meanwhile.
 */
describe('corrections in parallel beside metering', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = principal('admin', 'cpool-admin');
  let meterers: FixtureUser[];
  let burst: BurstClient;

  beforeAll(async () => {
    // The tests' pool of 10: 200 requests queue for it, as they would for any pool.
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'cpool', granter: admin.jwt });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
    burst = new BurstClient(t);
  });
  afterAll(async () => {
    await burst?.close();
    await t?.close();
  });

  /** `n` records of `credits` each for the user, in one batch: their ids. */
  async function records(u: FixtureUser, n: number, credits: number): Promise<string[]> {
    const events = Array.from({ length: n }, () => ({ eventId: randomUUID(), service: 's', operation: 'o', credits }));
    const res = await t.http.post('/api/usage/records/batch').set(u.auth).send({ events }).expect(200);
    expect(res.body.created).toBe(n);
    return (res.body.results as { usageRecordId: string }[]).map((r) => r.usageRecordId);
  }

  /**
   * `n` records written by `lanes` callers at once over the meterers' accounts: each answer's status
   * and time. The callers keep their connections between requests (fetch's pool), as a platform's
   * HTTP client and the client kit do: a client opening a connection a request would wait in the
   * kernel's queue of new connections behind the 200 corrections' own, which measures the kernel's
   * order of arrival rather than the instance (docs/usage.md "Corrections").
   */
  async function meter(n: number, lanes: number): Promise<{ statuses: number[]; ms: number[]; refusals: string[] }> {
    const statuses: number[] = [];
    const ms: number[] = [];
    const refusals: string[] = [];
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    let next = 0;
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < n) {
          const u = meterers[next++ % meterers.length];
          const started = performance.now();
          const res = await fetch(`http://127.0.0.1:${port}/api/usage/record`, {
            method: 'POST',
            headers: { ...u.auth, 'content-type': 'application/json' },
            body: JSON.stringify({ service: 'chat', operation: 'completion', credits: 1 }),
          });
          const body = await res.text();
          ms.push(performance.now() - started);
          statuses.push(res.status);
          if (res.status !== 201) refusals.push(body);
        }
      }),
    );
    return { statuses, ms, refusals };
  }

  const p99 = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.ceil(ms.length * 0.99) - 1];

  /**
   * 200 corrections of `targets` (record ids, each used in turn) fired at once, named by `round`,
   * from the burst client's own thread (their client is another program, as a script would be).
   */
  function fire(targets: string[], round: number) {
    const requests = Array.from({ length: 200 }, (_, i) => ({
      path: `/api/usage/records/${targets[i % targets.length]}/corrections`,
      body: { correctionId: `p-${round}-${i}`, reason: 'parallel', credits: (i * 7) % 23 },
    }));
    return burst.fire(requests, admin.auth);
  }

  /** Every correction answered 201, and each record's corrections applied one after the other. */
  async function expectApplied(answers: BurstAnswer[], targets: string[]) {
    const statuses = answers.map((r) => r.status);
    expect(
      statuses.filter((s) => s !== 201),
      answers.find((r) => r.status !== 201)?.body,
    ).toEqual([]);
    const { rows } = await t.db.query(
      `SELECT record_id, array_agg(previous_credits ORDER BY created_at, id) AS previous,
              array_agg(credits ORDER BY created_at, id) AS credits
         FROM usage_corrections WHERE record_id = ANY ($1::uuid[]) GROUP BY record_id`,
      [targets],
    );
    for (const r of rows as { previous: number[]; credits: number[] }[]) {
      expect(r.previous.slice(1)).toEqual(r.credits.slice(0, -1));
    }
  }

  /**
   * Metering of other accounts alone and beside 200 corrections of `targets`, alternated over four
   * rounds so that both see the machine as it is then: every correction answers 201, metering 201,
   * the invariants hold. In each round metering runs alone, then starts together with the 200
   * requests (it shares the instance with their arrival and their first turns), then runs once all
   * 200 are in the service, waiting for their turn or running, and ends before they do. Its p99 as
   * they arrive and its p99 beside them each stay within twice its p99 alone in at least one round;
   * over the four rounds beside them within two and a half times (or 100 ms above), as they arrive
   * within three times (or 400 ms above).
   */
  async function parallelBesideMetering(targets: string[], accounts: string[]) {
    const corrections = t.app.get(UsageCorrectionsService);
    // Four accounts metered, new for each test: each meters about 500 times in it, and THROTTLE_LIMIT
    // (1,000 a minute) counts a user's requests over both tests.
    meterers = [];
    for (let i = 0; i < 4; i++) meterers.push(await f.newUser({ credits: 1_000_000 }));
    const alone: number[] = [];
    const arriving: number[] = [];
    const beside: number[] = [];
    const rounds: string[] = [];
    const ratios = { arriving: [] as number[], beside: [] as number[] };
    // Unmeasured: the first requests of a route pay for compiling its code, and each pool connection
    // for preparing its statements the first time it runs them.
    expect((await meter(60, 6)).refusals).toEqual([]);
    const warming = await fire(targets, -1);
    expect((await meter(150, 6)).refusals).toEqual([]);
    await expectApplied(await warming.answers, targets);
    for (let round = 0; round < 4; round++) {
      const quiet = await meter(150, 6);
      expect(quiet.refusals).toEqual([]);
      const fired = await fire(targets, round);
      const first = await meter(150, 6);
      expect(first.refusals).toEqual([]);
      // All 200 received: answered, or in the service's turns (each takes its turn as it arrives).
      while (fired.answered() + corrections.queued < 200) await new Promise((resolve) => setImmediate(resolve));
      const metered = await meter(150, 6);
      expect(metered.refusals).toEqual([]);
      // Every metering request ran beside corrections still to finish.
      expect(corrections.queued).toBeGreaterThan(0);
      alone.push(...quiet.ms);
      arriving.push(...first.ms);
      beside.push(...metered.ms);
      rounds.push([quiet, first, metered].map((m) => p99(m.ms).toFixed(0)).join('/'));
      ratios.arriving.push(p99(first.ms) / p99(quiet.ms));
      ratios.beside.push(p99(metered.ms) / p99(quiet.ms));
      await expectApplied(await fired.answers, targets);
    }
    await expectInvariants(t, [...accounts, ...meterers.map((m) => m.id)]);
    const [a, b, c] = [p99(alone), p99(arriving), p99(beside)];
    console.log(
      `metering p99 alone ${a.toFixed(0)} ms, as 200 corrections arrive ${b.toFixed(0)} ms (${(b / a).toFixed(2)}×), ` +
        `beside them ${c.toFixed(0)} ms (${(c / a).toFixed(2)}×); by round (alone/arriving/beside) ${rounds.join(', ')}; ` +
        `load average ${loadavg()[0].toFixed(1)}`,
    );
    // Within twice alone in at least one round; over the four, beside them within two and a half
    // times and as they arrive within three (or 100 and 400 ms above alone, where that is more: at a
    // p99 alone of 20-40 ms one pause of a shared machine, a collection or another program's burst,
    // decides the ratio). The margins are what a shared two-core machine needed (docs/usage.md).
    expect(Math.min(...ratios.arriving)).toBeLessThan(2);
    expect(Math.min(...ratios.beside)).toBeLessThan(2);
    expect(b).toBeLessThan(Math.max(3 * a, a + 400));
    expect(c).toBeLessThan(Math.max(2.5 * a, a + 100));
  }

  it('200 corrections of one account at once: none waits for a second connection', async () => {
    const u = await f.newUser({ credits: 100_000 });
    const ids = await records(u, 40, 10);
    await parallelBesideMetering(ids, [u.id]);
  });

  it('200 corrections across 50 accounts at once', async () => {
    // Made side by side: this file runs alone after every other, so its set-up is the run's time.
    const accounts = await Promise.all(Array.from({ length: 50 }, () => f.newUser({ credits: 1_000 })));
    const ids = (await Promise.all(accounts.map((u) => records(u, 2, 10)))).flat();
    await parallelBesideMetering(
      ids,
      accounts.map((a) => a.id),
    );
  });
});

import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { UsageCorrectionsService } from '../src/usage/corrections/usage-corrections.service.js';
import { startTestApp, type TestApp } from './support/app.js';
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

  beforeAll(async () => {
    // The tests' pool of 10: 200 requests queue for it, as they would for any pool.
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'cpool', granter: admin.jwt });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
    meterers = [];
    for (let i = 0; i < 4; i++) meterers.push(await f.newUser({ credits: 1_000_000 }));
  });
  afterAll(() => t?.close());

  /** `n` records of `credits` each for the user, in one batch: their ids. */
  async function records(u: FixtureUser, n: number, credits: number): Promise<string[]> {
    const events = Array.from({ length: n }, () => ({ eventId: randomUUID(), service: 's', operation: 'o', credits }));
    const res = await t.http.post('/api/usage/records/batch').set(u.auth).send({ events }).expect(200);
    expect(res.body.created).toBe(n);
    return (res.body.results as { usageRecordId: string }[]).map((r) => r.usageRecordId);
  }

  /** `n` records written by `lanes` callers at once over the meterers' accounts: each answer's status and time. */
  async function meter(n: number, lanes: number): Promise<{ statuses: number[]; ms: number[]; refusals: string[] }> {
    const statuses: number[] = [];
    const ms: number[] = [];
    const refusals: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < n) {
          const u = meterers[next++ % meterers.length];
          const started = performance.now();
          const res = await t.http
            .post('/api/usage/record')
            .set(u.auth)
            .send({ service: 'chat', operation: 'completion', credits: 1 });
          ms.push(performance.now() - started);
          statuses.push(res.status);
          if (res.status !== 201) refusals.push(JSON.stringify(res.body));
        }
      }),
    );
    return { statuses, ms, refusals };
  }

  const p99 = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.ceil(ms.length * 0.99) - 1];

  /** 200 corrections of `targets` (record ids, each used in turn) fired at once, named by `round`. */
  function fire(targets: string[], round: number) {
    let answered = 0;
    const answers = Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        t.http
          .post(`/api/usage/records/${targets[i % targets.length]}/corrections`)
          .set(admin.auth)
          .send({ correctionId: `p-${round}-${i}`, reason: 'parallel', credits: (i * 7) % 23 })
          .then((res) => {
            answered++;
            return res;
          }),
      ),
    );
    return { answers, answered: () => answered };
  }

  /** Every correction answered 201, and each record's corrections applied one after the other. */
  async function expectApplied(answers: { status: number; body: unknown }[], targets: string[]) {
    const statuses = answers.map((r) => r.status);
    expect(
      statuses.filter((s) => s !== 201),
      JSON.stringify(answers.find((r) => r.status !== 201)?.body),
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
   * Metering of other accounts alone and beside 200 corrections of `targets`, alternated over three
   * rounds so that both see the machine as it is then: every correction answers 201, metering 201,
   * the invariants hold. In the first round metering starts with the 200 requests, so it shares the
   * instance with their arrival too (every request parsed, authenticated and validated at once):
   * its p99 stays under three times (or 2 s above) alone. In the next three, metering starts once the
   * 200 are in the service, running or waiting for their turn, and ends before they do: its p99
   * beside the corrections stays under the same bound in every round, and within twice the p99 alone
   * of the same round in at least one (other spec files share the machine, and their load can only
   * slow a round down, never speed it up).
   */
  async function parallelBesideMetering(targets: string[], accounts: string[]) {
    const corrections = t.app.get(UsageCorrectionsService);
    const alone: number[] = [];
    const arriving: number[] = [];
    const beside: number[] = [];
    const ratios: number[] = [];
    // Unmeasured: the first requests of a route pay for compiling its code and preparing its statements.
    expect((await meter(60, 6)).refusals).toEqual([]);
    for (let round = 0; round < 4; round++) {
      const quiet = await meter(150, 6);
      expect(quiet.refusals).toEqual([]);
      alone.push(...quiet.ms);
      const fired = fire(targets, round);
      if (round > 0) {
        // All 200 received: answered, or in the service's turns.
        while (fired.answered() + corrections.queued < 200) await new Promise((resolve) => setImmediate(resolve));
      }
      const metered = await meter(150, 6);
      expect(metered.refusals).toEqual([]);
      if (round > 0) {
        // Every metering request ran beside corrections still to finish.
        expect(corrections.queued).toBeGreaterThan(0);
        beside.push(...metered.ms);
        ratios.push(p99(metered.ms) / p99(quiet.ms));
      } else arriving.push(...metered.ms);
      await expectApplied(await fired.answers, targets);
    }
    await expectInvariants(t, [...accounts, ...meterers.map((m) => m.id)]);
    const [a, b, c] = [p99(alone), p99(arriving), p99(beside)];
    console.log(
      `metering p99 alone ${a.toFixed(0)} ms, beside 200 corrections ${c.toFixed(0)} ms (${(c / a).toFixed(2)}×; ` +
        `by round ${ratios.map((r) => r.toFixed(2)).join(', ')}), as they arrive ${b.toFixed(0)} ms; ` +
        `load average ${loadavg()[0].toFixed(1)}`,
    );
    expect(b).toBeLessThan(Math.max(3 * a, a + 2000));
    expect(c).toBeLessThan(Math.max(3 * a, a + 2000));
    expect(Math.min(...ratios)).toBeLessThan(2);
  }

  it('200 corrections of one account at once: none waits for a second connection', async () => {
    const u = await f.newUser({ credits: 100_000 });
    const ids = await records(u, 40, 10);
    await parallelBesideMetering(ids, [u.id]);
  });

  it('200 corrections across 50 accounts at once', async () => {
    const accounts: FixtureUser[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const u = await f.newUser({ credits: 1_000 });
      accounts.push(u);
      ids.push(...(await records(u, 2, 10)));
    }
    await parallelBesideMetering(
      ids,
      accounts.map((a) => a.id),
    );
  });
});

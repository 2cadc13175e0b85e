import { afterAll, describe, expect, it } from 'vitest';

import { bearer, token } from './support/app.js';
import { formatFinding, FuzzHarness } from './support/fuzz-harness.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Issue 9: a schema-driven fuzz test. The generated OpenAPI document drives everything: for every
 * operation fast-check draws requests from its parameter and body schemas, about half valid and half
 * with one part made invalid (wrong types, missing, null and extra fields, boundary numbers, long and
 * odd strings with lone surrogates and NUL, deep nesting, forged cursors, odd dates, bad bytes and
 * content types), sent as JWT users, supervisors and admins, API keys of each scope, the internal key
 * and bad credentials. Every answer must be no 5xx, a status the document lists for the operation with
 * a body that matches its schema, refused when the documented access rule says so; and a refused
 * request (or any read) must change no user's allocations, ledger, usage records or holds.
 *
 *   FUZZ_RUNS=n        requests per operation (default 200: about 20 s on a quiet 2-core machine)
 *   FUZZ_SEED=n        replay a run (the seed is printed)
 *   FUZZ_OPERATION=x   only these operations (operationId, its method name such as `record`, or
 *                      `post /api/usage/record`; comma-separated)
 *   FUZZ_SHRINK=1      let fast-check shrink each operation's first failure to a smallest request
 *   FUZZ_TIME_LIMIT_S  wall-clock budget of the whole run (default 45), a safety net on slow machines
 *   FUZZ_STRICT=1      also flag response properties the schema does not list (drift, not a contract break)
 *   FUZZ_VERBOSE=1     print the statuses each operation answered to valid and to invalid requests
 */
const options = {
  runs: Number(process.env.FUZZ_RUNS ?? 200),
  seed: Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31)),
  only: process.env.FUZZ_OPERATION,
  shrink: process.env.FUZZ_SHRINK === '1',
  budgetMs: Number(process.env.FUZZ_TIME_LIMIT_S ?? 45) * 1000,
  strict: process.env.FUZZ_STRICT === '1',
};
const replay = `replay: FUZZ_SEED=${options.seed} FUZZ_RUNS=${options.runs}`;
console.log(`fuzz: ${replay}${options.only ? ` FUZZ_OPERATION=${options.only}` : ''}`);

const harness = await FuzzHarness.start(options);
afterAll(async () => {
  if (process.env.FUZZ_VERBOSE === '1') console.log(harness.statusTable());
  await harness.close();
});

describe('schema-driven fuzzing of every operation of the OpenAPI document', () => {
  for (const operation of harness.operations) {
    it(`${operation.id} (${operation.method.toUpperCase()} ${operation.path})`, async () => {
      const findings = await harness.fuzz(operation);
      const runs = harness.runsOf(operation.id);
      if (runs < options.runs && !options.shrink)
        console.warn(`fuzz: ${operation.id} stopped after ${runs} runs (FUZZ_TIME_LIMIT_S)`);
      expect(findings.map(formatFinding), `${replay} FUZZ_OPERATION=${operation.id}`).toEqual([]);
    });
  }

  it('notices money that moves (the check behind "a refused request moves nothing" can fail)', async () => {
    const [user] = harness.world.users;
    const before = await harness.world.money(harness.world.users);
    await harness.t.http
      .post('/api/credits/allocate')
      .set(bearer(token({ sub: 'fuzz-self-check', role: 'admin' })))
      .send({ userId: user, credits: 1 })
      .expect(201);
    const after = await harness.world.money(harness.world.users);
    expect(harness.world.users.filter((u) => before.get(u) !== after.get(u))).toEqual([user]);
  });

  it("keeps the money invariants of the fuzzer's users after all accepted requests", async () => {
    await expectInvariants(harness.t, harness.world.users);
  });

  // Too few runs prove nothing either way: checked for the operations that got at least 40.
  it.skipIf(options.runs < 40)(
    'reached the code: each operation accepted valid requests and refused invalid ones',
    () => {
      const missed: string[] = [];
      for (const operation of harness.operations.filter((o) => harness.runsOf(o.id) >= 40)) {
        const seen = harness.seen.get(operation.id);
        const statuses = [...(seen?.valid.keys() ?? []), ...(seen?.invalid.keys() ?? [])];
        if (!statuses.some((s) => s >= 200 && s < 300)) missed.push(`${operation.id}: no 2xx in ${statuses.join(',')}`);
        const hasInput = operation.op.requestBody || (operation.op.parameters ?? []).some((p) => p.in !== 'header');
        if (hasInput && ![...(seen?.invalid.keys() ?? [])].includes(400))
          missed.push(`${operation.id}: no invalid request refused with 400`);
      }
      expect(missed).toEqual([]);
    },
  );
});

// npm run bench:instructions -- <balance|check|record|recordOwn|recordOwnKey|recordKinds|recordProvider> [requests]: the built service's CPU
// instructions per request, counted by valgrind's callgrind. On a shared VM the service's CPU time
// per request moves by ±15 % from one 5 s window to the next, more than most single changes to the
// request path; the instruction count of the same requests mostly repeats within 1–2 % (balance),
// though a run now and then lands 5–8 % off, so an A/B of a change is this script run several
// times in each of two checkouts. The service starts under valgrind with
// instrumentation off (at near full speed), warms up, and only the measured requests are counted.
// Needs valgrind (Debian: apt-get install valgrind). Record counts move more between runs than
// balance and check (lock waits change what the event loop does); repeat them. INSTRUCTIONS_VERSION=<ref>
// counts another commit's build instead (bench/builds.mjs; its own bench/lib.mjs seeds its users), so
// `recordOwn` (a user's own record by their JWT, METERING_TRUST=users, as bench:stages sends it) with
// INSTRUCTIONS_CONNECTIONS=1 is what a record alone costs Node in each build.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import autocannon from 'autocannon';
import pg from 'pg';

import { buildOf } from './builds.mjs';
import { accessToken, freshDatabase, log, ROOT, startServer, startService, userIds } from './lib.mjs';
import { BODIES, createBenchRule } from './provider-usage.mjs';

const SCENARIOS = {
  balance: { method: 'GET', path: '/api/credits/balance' },
  check: { method: 'POST', path: '/api/credits/check', body: { credits: 1 } },
  // Metered by a service principal (METERING_TRUST=service, the default): an admin's JWT naming the user.
  record: {
    method: 'POST',
    path: '/api/usage/record',
    body: { service: 'bench', operation: 'op', credits: 1 },
    meters: true,
  },
  // The same call priced from token kinds and from the provider's usage object: run each a few times
  // and compare (docs/provider-usage.md "Cost").
  recordKinds: { method: 'POST', path: '/api/usage/record', body: BODIES.kinds, meters: true, rule: true },
  recordProvider: { method: 'POST', path: '/api/usage/record', body: BODIES.provider, meters: true, rule: true },
};
// A user's own record, by their JWT (the service started with METERING_TRUST=users): the record's body.
SCENARIOS.recordOwn = { ...SCENARIOS.record, meters: false, own: true };
// The same with a fresh Idempotency-Key each (the key's fingerprint, its lock, its answer stored).
SCENARIOS.recordOwnKey = { ...SCENARIOS.recordOwn, key: true };
const [name = 'balance', count = '2000'] = process.argv.slice(2);
const scenario = SCENARIOS[name];
if (!scenario) throw new Error(`unknown scenario ${name}: one of ${Object.keys(SCENARIOS).join(', ')}`);
const REQUESTS = Number(count);
const WARM_UP = 3 * REQUESTS;
const root = process.env.INSTRUCTIONS_VERSION ? buildOf(process.env.INSTRUCTIONS_VERSION) : ROOT;

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_instructions');
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const out = await mkdtemp(path.join(tmpdir(), 'accounting-callgrind-'));
const service = await startService(
  database.url,
  // No job may run inside the counted window.
  { JOBS_ENABLED: 'false', ...(scenario.own ? { METERING_TRUST: 'users' } : {}) },
  {
    under: [
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${out}/callgrind.%p`,
      '--smc-check=all-non-file',
    ],
    readyWithinMs: Number(process.env.INSTRUCTIONS_READY_MS ?? 600_000),
    root,
  },
);
try {
  await (await import(path.join(root, 'bench/lib.mjs'))).seedUsers(db, 1000, 1_000_000_000);
  // The same users in the same order on every run.
  const ids = userIds(1000);
  const tokens = ids.map((id) => `Bearer ${accessToken(id)}`);
  const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
  if (scenario.rule) await createBenchRule(service.base, meter);
  let next = 0;
  /** The next user in a fixed order: their token, or (metering) the service's naming them. */
  const request = () => {
    const i = (next++ * 7919) % ids.length;
    return scenario.meters
      ? { authorization: meter, body: JSON.stringify({ userId: ids[i], ...scenario.body }) }
      : { authorization: tokens[i], body: scenario.body ? JSON.stringify(scenario.body) : undefined };
  };
  const run = (amount) =>
    autocannon({
      url: service.base,
      // INSTRUCTIONS_CONNECTIONS=1 counts each request alone: no event-loop turn serves several, so
      // the count moves less with the machine's load (8, the default, is what the README's history used).
      connections: Number(process.env.INSTRUCTIONS_CONNECTIONS ?? 8),
      amount,
      timeout: 60,
      requests: [
        {
          method: scenario.method,
          path: scenario.path,
          setupRequest: (req) => {
            const { authorization, body } = request();
            const headers = { 'content-type': 'application/json', authorization };
            if (scenario.key) headers['idempotency-key'] = randomUUID();
            return { ...req, headers, body };
          },
        },
      ],
    });
  log(`warming up (${WARM_UP} requests, not counted)...`);
  const warm = await run(WARM_UP);
  const control = (...args) => execFileSync('callgrind_control', [...args, String(service.pid)], { stdio: 'ignore' });
  control('--instr=on');
  control('--zero');
  log(`counting ${REQUESTS} requests...`);
  const measured = await run(REQUESTS);
  control('--dump=measured');
  control('--instr=off');
  let instructions = 0;
  for (const file of await readdir(out)) {
    const text = await readFile(path.join(out, file), 'utf8');
    if (!text.includes('measured')) continue;
    instructions += Number(/^(?:summary|totals): (\d+)/m.exec(text)?.[1] ?? 0);
  }
  // A warm-up request that failed (under valgrind a request can wait past the pool's or the lock's
  // timeout on a loaded machine) is not counted; a counted one that failed voids the count.
  const failed = measured.non2xx + measured.errors + measured.timeouts;
  const warmFailed = warm.non2xx + warm.errors + warm.timeouts;
  if (warmFailed > 0) log(`${warmFailed} warm-up requests failed (not counted)`);
  if (failed > 0 || instructions === 0)
    throw new Error(
      `${failed} requests failed (warm-up: ${warm.non2xx} non-2xx, ${warm.errors} errors of which ${warm.timeouts} ` +
        `timeouts; measured: ${measured.non2xx} non-2xx, ${measured.errors} errors of which ${measured.timeouts} ` +
        `timeouts), ${instructions} instructions counted`,
    );
  console.log(
    `${scenario.method} ${scenario.path}: ${Math.round(instructions / measured.requests.total / 1000)} k instructions per request (${measured.requests.total} requests counted)`,
  );
} finally {
  await service.stop();
  await db.end();
  await database.drop();
  await server.stop();
  await rm(out, { recursive: true, force: true });
}

// npm run bench: the built service on a fresh database, 1,000 users with credits; pgbench TPC-B on
// the same server; autocannon (32 connections × 10 s per scenario after a warm-up) on balance, check,
// feature checks without and with consumption,
// record (random user, one user, members of a few organisations), streaming pairs, record with and without a webhook in interleaved
// rounds, record with and without a service tier and units in interleaved rounds, records through API keys without and with spend controls, batch ingestion; then the money
// checks and pgbench TPC-B again. Every row carries the service's own CPU per request
// (bench/measure.mjs) and its rate against the mean of the two TPC-B runs; bench/report.mjs prints
// the tables and the targets. BENCH_JSON=<file> writes the run's figures there; BENCH_BASELINE=<file>
// (such a file from another build, same machine) adds each row's change against it, by ratio to
// TPC-B, so two builds measured at different moments of a shared machine compare.
import { writeFileSync } from 'node:fs';

import autocannon from 'autocannon';
import pg from 'pg';

import { moneyChecks, runBatches } from './batch.mjs';
import { budgetRecord, seedBudgets } from './budgets.mjs';
import { createDimensionsRule, dimensionRounds, dimensionSummary } from './dimensions.mjs';
import { featureScenarios, seedFeatures } from './features.mjs';
import {
  accessToken,
  freshDatabase,
  hasPgbench,
  log,
  seedUsers,
  startServer,
  startService,
  tpcb,
  tpcbDatabase,
  userIds,
} from './lib.mjs';
import { combinedRow, requestRow, row, withCpu } from './measure.mjs';
import { seedOrgs } from './orgs.mjs';
import { runPairs } from './pair.mjs';
import { pricedRecord, seedAccountPrices, seedRecords, simulate } from './pricing.mjs';
import { createBenchRule, providerUsageRounds } from './provider-usage.mjs';
import { printReport, SCENARIO } from './report.mjs';
import { createKeys, createServiceKey, limitSpendRate, unlimitSpendRate } from './spend-controls.mjs';
import { latencySummary, webhookRounds } from './webhooks.mjs';

const USERS = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
// Webhook ratio: rounds of a window without and one with a webhook, half as long as a scenario.
// Eight, not four: single 5 s windows of the record route on this machine move by ±20 %, and with
// four rounds a side the summed ratio still moved by about ±5 % around the effect it measures.
const WEBHOOK_ROUNDS = 8;
const WEBHOOK_WINDOW = Math.max(1, Math.round(DURATION / 2));

const server = await startServer();
log(`database server: ${server.kind}`);
const database = await freshDatabase(server.url, 'accounting_bench');
// Private URLs: the webhook scenario's receiver is on 127.0.0.1. The service refuses them with
// NODE_ENV=production, so it runs as `test` with what production defaults to set outright (strict
// pricing, no Swagger UI, JSON logs): NODE_ENV changes nothing else (src/config/app-config.ts).
const service = await startService(database.url, {
  NODE_ENV: 'test',
  PRICING_STRICT: 'true',
  SWAGGER_ENABLED: 'false',
  LOG_FORMAT: 'json',
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
});
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const results = [];
let pgbenchTps = null;
const pgbenchRuns = [];
let scratch = null;
let webhookSummary;
let spendSummary;
let batchSummary;
let moneySummary;
// pgbench TPC-B on the same server, run before the scenarios and after them: the mean is what every
// rate is compared with (a single 10 s run moves by ±15 % on a shared machine).
const runTpcb = () => pgbenchRuns.push(tpcb(scratch.url, { connections: CONNECTIONS, duration: DURATION }));
let providerSummary;
let dimensionsSummary;
let pricingSummary;
try {
  if (hasPgbench()) {
    scratch = await tpcbDatabase(server.url, 'accounting_pgbench');
    runTpcb();
  }
  await seedUsers(db, USERS, 1_000_000);
  const ids = userIds(USERS);
  const tokens = ids.map((id) => `Bearer ${accessToken(id)}`);
  const random = () => tokens[Math.floor(Math.random() * tokens.length)];
  const randomId = () => ids[Math.floor(Math.random() * ids.length)];
  const json = { 'content-type': 'application/json' };
  // Metering is a service principal's (METERING_TRUST=service, the default): an admin's JWT naming the
  // billed user authenticates as cheaply as the user's own JWT did (both verified once, then cached).
  const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
  const serviceKey = await createServiceKey(service);
  // 5 organisations of 40 members each (the first 200 users): their records charge the org's pool.
  const orgMembers = await seedOrgs(db, { orgs: 5, members: 40, credits: 2_000_000_000 });
  // A boolean and a metered feature granted to every user (bench/features.mjs): the checks below.
  await seedFeatures(service, db, meter);

  const scenarios = [
    { name: SCENARIO.balance, method: 'GET', path: '/api/credits/balance', auth: random },
    { name: 'POST /api/credits/check', method: 'POST', path: '/api/credits/check', body: { credits: 1 }, auth: random },
    // Feature checks without consumption (against balance) and consuming one use (against record).
    ...featureScenarios(random),
    {
      name: SCENARIO.record,
      method: 'POST',
      path: '/api/usage/record',
      body: () => ({ userId: randomId(), service: 'bench', operation: 'op', credits: 1 }),
      auth: () => meter,
    },
    {
      // Beside the user record: the same record paid by an org, its member's limit read and counted.
      name: SCENARIO.recordOrg,
      method: 'POST',
      path: '/api/usage/record',
      body: () => {
        const m = orgMembers[Math.floor(Math.random() * orgMembers.length)];
        return { userId: m.userId, orgId: m.orgId, service: 'bench', operation: 'op', credits: 1 };
      },
      auth: () => meter,
    },
    {
      name: 'POST /api/usage/record (one user)',
      method: 'POST',
      path: '/api/usage/record',
      body: () => ({ userId: ids[0], service: 'bench', operation: 'op', credits: 1 }),
      auth: () => meter,
    },
    {
      // The chat backend's own credential: a service key is looked up on every request.
      name: 'POST /api/usage/record (service key)',
      method: 'POST',
      path: '/api/usage/record',
      body: () => ({ userId: randomId(), service: 'bench', operation: 'op', credits: 1 }),
      headers: () => ({ 'x-api-key': serviceKey }),
    },
  ];

  const run = (scenario, duration) =>
    autocannon({
      url: service.base,
      connections: CONNECTIONS,
      duration,
      requests: [
        {
          method: scenario.method,
          path: scenario.path,
          setupRequest: (req) => ({
            ...req,
            headers: {
              ...(scenario.body ? json : {}),
              ...(scenario.headers ? scenario.headers() : { authorization: scenario.auth() }),
            },
            body: scenario.body
              ? JSON.stringify(typeof scenario.body === 'function' ? scenario.body() : scenario.body)
              : undefined,
          }),
        },
      ],
    });
  // A measured run: autocannon's result and the service's CPU (µs) over exactly that window.
  const measure = (scenario, duration) => withCpu(service, () => run(scenario, duration));

  // Warm-up: every user's first request creates/refreshes its account cache; JIT and pools warm.
  log('warming up...');
  for (const t of tokens) await fetch(`${service.base}/api/credits/balance`, { headers: { authorization: t } });
  for (const s of scenarios) await run(s, 2);

  for (const s of scenarios) {
    log(`running ${s.name} (${CONNECTIONS} connections, ${DURATION} s)...`);
    results.push(requestRow(s.name, await measure(s, DURATION)));
  }

  // A streaming session's initialize + finalize for a random user, per connection in turn.
  log(`running streaming pairs (initialize + finalize, ${CONNECTIONS} connections, ${DURATION} s)...`);
  const pairSummary = await runPairs(service, meter, randomId, CONNECTIONS, DURATION);
  results.push(
    row(SCENARIO.pair, {
      rate: pairSummary.pairsPerSecond,
      p50: pairSummary.p50,
      p99: pairSummary.p99,
      cpuMicros: pairSummary.cpuMicros,
      units: pairSummary.pairs,
      failed: pairSummary.failed,
    }),
  );

  // The same record scenario with an endpoint subscribed to every event while events are emitted
  // (through the outbox, 20 a second) and delivered, against the same scenario without it:
  // interleaved rounds of half-length windows (bench/webhooks.mjs), compared by summed requests.
  const recordScenario = scenarios.find((s) => s.name === SCENARIO.record);
  log(`running ${recordScenario.name} in ${WEBHOOK_ROUNDS} rounds without and with a webhook on every event...`);
  const hooks = await webhookRounds(service, db, () => measure(recordScenario, WEBHOOK_WINDOW), WEBHOOK_ROUNDS);
  const without = hooks.rounds.map((r) => r.without);
  const hooked = hooks.rounds.map((r) => r.with);
  results.push(combinedRow(`${SCENARIO.record}, webhook rounds: without`, without));
  results.push(combinedRow(`${SCENARIO.record}, webhook rounds: with one on "*"`, hooked));
  const requests = (windows) => windows.reduce((sum, w) => sum + w.result.requests.total, 0);
  webhookSummary = {
    rounds: WEBHOOK_ROUNDS,
    window: WEBHOOK_WINDOW,
    ratio: requests(hooked) / requests(without),
    perRound: hooks.rounds.map((r) => r.with.result.requests.total / r.without.result.requests.total),
    baseline: Math.round(requests(without) / (WEBHOOK_ROUNDS * WEBHOOK_WINDOW)),
    delivered: hooks.latencies.length,
    emitted: hooks.emitted,
    ...latencySummary(hooks.latencies),
  };

  // A record priced from the provider's usage object against the same call as token kinds
  // (bench/provider-usage.mjs): interleaved rounds, compared by Node CPU per request.
  log(`running records from token kinds and from providerUsage in ${WEBHOOK_ROUNDS} interleaved rounds...`);
  await createBenchRule(service.base, meter);
  const providerRounds = await providerUsageRounds(
    (body) =>
      measure(
        { method: 'POST', path: '/api/usage/record', body: () => ({ userId: randomId(), ...body }), auth: () => meter },
        WEBHOOK_WINDOW,
      ),
    WEBHOOK_ROUNDS,
  );
  const kindsRow = combinedRow(SCENARIO.recordKinds, providerRounds.kinds);
  const providerRow = combinedRow(SCENARIO.recordProvider, providerRounds.provider);
  results.push(kindsRow, providerRow);
  providerSummary = { cpuRatio: providerRow['CPU µs/req'] / kindsRow['CPU µs/req'] };

  // A record with a service tier and units against the same record without them (bench/dimensions.mjs):
  // interleaved rounds, compared by summed requests and by Node CPU per request.
  log(`running records with and without a tier and units in ${WEBHOOK_ROUNDS} interleaved rounds...`);
  await createDimensionsRule(service.base, meter);
  const dimensionWindows = await dimensionRounds(
    (body) =>
      measure(
        { method: 'POST', path: '/api/usage/record', body: () => ({ userId: randomId(), ...body }), auth: () => meter },
        WEBHOOK_WINDOW,
      ),
    WEBHOOK_ROUNDS,
  );
  const plainRow = combinedRow(SCENARIO.recordPlain, dimensionWindows.plain);
  const dimensionsRow = combinedRow(SCENARIO.recordDimensions, dimensionWindows.dimensions);
  results.push(plainRow, dimensionsRow);
  dimensionsSummary = dimensionSummary(dimensionWindows, plainRow, dimensionsRow);

  // Pricing by account (bench/pricing.mjs): the record route priced for users with an account price in
  // force and for users without one, in interleaved rounds compared by summed requests; then one
  // simulation over 1,000,000 records (target under 5 s).
  log(`running priced records with and without an account price in ${WEBHOOK_ROUNDS} interleaved rounds...`);
  await seedAccountPrices(service, db, meter);
  const priced = (discounted) => ({
    method: 'POST',
    path: '/api/usage/record',
    body: pricedRecord(discounted, USERS),
    auth: () => meter,
  });
  const accountRounds = { without: [], with: [] };
  for (let i = 0; i < WEBHOOK_ROUNDS; i++) {
    accountRounds.without.push(await measure(priced(false), WEBHOOK_WINDOW));
    accountRounds.with.push(await measure(priced(true), WEBHOOK_WINDOW));
  }
  results.push(combinedRow('POST /api/usage/record (priced, no account price)', accountRounds.without));
  results.push(combinedRow('POST /api/usage/record (priced, account price in force)', accountRounds.with));
  const summed = (windows) => windows.reduce((sum, w) => sum + w.result.requests.total, 0);
  log('seeding 1,000,000 records for the simulation...');
  await seedRecords(db, 1_000_000, USERS);
  const simulation = await simulate(service, meter);
  log(`simulation over ${simulation.records} records: ${simulation.seconds.toFixed(2)} s`);
  pricingSummary = { accountPriceRatio: summed(accountRounds.with) / summed(accountRounds.without), simulation };

  // Budgets by scope (bench/budgets.mjs): records naming a project budget and a run budget under it,
  // against records naming none, in interleaved rounds.
  log(`running records with two budgets and without scopes in ${WEBHOOK_ROUNDS} interleaved rounds...`);
  await seedBudgets(db, ids);
  const budgetRounds = { without: [], with: [] };
  for (let i = 0; i < WEBHOOK_ROUNDS; i++) {
    budgetRounds.without.push(await measure(budgetRecord(false, randomId, meter), WEBHOOK_WINDOW));
    budgetRounds.with.push(await measure(budgetRecord(true, randomId, meter), WEBHOOK_WINDOW));
  }
  results.push(combinedRow('POST /api/usage/record (budget rounds: no scopes)', budgetRounds.without));
  results.push(combinedRow('POST /api/usage/record (budget rounds: two budgets)', budgetRounds.with));
  log(`budgets: with/without = ${(summed(budgetRounds.with) / summed(budgetRounds.without)).toFixed(3)}`);

  // Spend controls: records through users' API keys without, then with a budget and an hourly limit
  // per user, metered as a gateway does it: the service names the user and the key (apiKeyId).
  log('creating bench API keys...');
  const plainKeys = await createKeys(service, ids, tokens, false);
  const budgetKeys = await createKeys(service, ids, tokens, true);
  const viaKey = (keys) => ({
    name: 'record via key',
    method: 'POST',
    path: '/api/usage/record',
    body: () => {
      const key = keys[Math.floor(Math.random() * keys.length)];
      return { userId: key.userId, apiKeyId: key.id, service: 'bench', operation: 'op', credits: 1 };
    },
    auth: () => meter,
  });
  await run(viaKey(plainKeys), 2);
  log(`running records through keys without, then with budgets and hourly limits...`);
  const plainKeyRun = await measure(viaKey(plainKeys), DURATION);
  await limitSpendRate(db, ids, 2_000_000_000);
  const controlledRun = await measure(viaKey(budgetKeys), DURATION);
  await unlimitSpendRate(db);
  const plainRecordRun = await run(recordScenario, DURATION);
  results.push(requestRow('POST /api/usage/record (API key, no budget)', plainKeyRun));
  results.push(requestRow('POST /api/usage/record (API key with budget, user with hourly limit)', controlledRun));
  spendSummary = {
    vsKey: controlledRun.result.requests.average / plainKeyRun.result.requests.average,
    vsRecord: controlledRun.result.requests.average / ((webhookSummary.baseline + plainRecordRun.requests.average) / 2),
  };

  // Batch ingestion: 4 clients sending 1,000-event batches spread over every user, none with an
  // hourly limit any more (plain ingestion, as pgbench's plain transactions); then the money checks.
  log(`running batch ingestion (4 clients × 1,000 events, ${DURATION} s)...`);
  batchSummary = await runBatches(service, ids, DURATION, db);
  results.push(
    row(SCENARIO.batch, {
      rate: batchSummary.eventsPerSecond,
      p50: batchSummary.p50,
      p99: batchSummary.p99,
      cpuMicros: batchSummary.cpuMicros,
      units: batchSummary.events,
      failed: batchSummary.errors + batchSummary.notCreated,
    }),
  );
  moneySummary = await moneyChecks(service, db);
  log(`after the run: ${JSON.stringify(moneySummary)}`);

  if (scratch) {
    runTpcb();
    pgbenchTps = pgbenchRuns.reduce((sum, x) => sum + x, 0) / pgbenchRuns.length;
  }
} finally {
  await scratch?.drop();
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}

const figures = {
  connections: CONNECTIONS,
  duration: DURATION,
  users: USERS,
  results,
  pgbenchTps,
  pgbenchRuns,
  webhook: webhookSummary,
  spend: spendSummary,
  batch: batchSummary,
  money: moneySummary,
  providerUsage: providerSummary,
  dimensions: dimensionsSummary,
  pricing: pricingSummary,
};
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(figures, null, 2));
printReport(figures, process.env.BENCH_BASELINE);

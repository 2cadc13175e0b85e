// node bench/late-usage.mjs (after npm run build; npm run bench:late-usage builds first): the record
// route and the batch with `occurredAt` (docs/usage.md "Late usage") against the same calls without
// it, alone on a fresh database with 1,000 users, in BENCH_ROUNDS interleaved rounds (default 6) of
// BENCH_DURATION / 2 seconds a side (default 5), the side measured first alternating; compared by
// summed requests and by the service's Node CPU per request. A late record is priced by the rule in
// force at its occurredAt (a rule changed an hour before, so the price history is read) and counted on
// its own day.
import pg from 'pg';

import { accessToken, freshDatabase, log, postLoad, seedUsers, startServer, startService, userIds } from './lib.mjs';
import { combinedRow, withCpu } from './measure.mjs';

const USERS = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const BATCH_CLIENTS = 4;
const BATCH_EVENTS = 200;
const WINDOW = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 10) / 2));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const MODEL = 'bench.late-model';
const HOUR = 3_600_000;

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_late');
const service = await startService(database.url, { NODE_ENV: 'test', PRICING_STRICT: 'true', LOG_FORMAT: 'json' });
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
const ids = userIds(USERS);
const randomId = () => ids[Math.floor(Math.random() * ids.length)];
let sent = 0;

/** Two hours ago, so the record is priced by the rule that was in force before the last change. */
const late = () => ({ occurredAt: new Date(Date.now() - 2 * HOUR).toISOString() });
const now = () => ({});
const TOKENS = { service: 'chat', operation: 'completion', modelId: MODEL, inputTokens: 1200, outputTokens: 300 };

const record = (when) =>
  postLoad({
    base: service.base,
    connections: CONNECTIONS,
    duration: WINDOW,
    authorization: meter,
    body: () => ({ userId: randomId(), ...TOKENS, ...when() }),
  });

const batch = (when) =>
  postLoad({
    base: service.base,
    path: '/api/usage/records/batch',
    connections: BATCH_CLIENTS,
    duration: WINDOW,
    authorization: meter,
    body: () => ({
      events: Array.from({ length: BATCH_EVENTS }, () => ({
        eventId: `bench-late-${sent++}`,
        userId: randomId(),
        ...TOKENS,
        ...when(),
      })),
    }),
  });

/** `rounds` rounds of a window without occurredAt and one with it, the first side alternating. */
async function rounds(measure) {
  const sides = { now: [], late: [] };
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? ['now', 'late'] : ['late', 'now'];
    for (const side of order) sides[side].push(await withCpu(service, () => measure(side === 'late' ? late : now)));
  }
  return sides;
}

function report(what, sides, unit = 1) {
  const a = combinedRow(`${what} (now, rounds)`, sides.now);
  const b = combinedRow(`${what} (occurredAt 2 h ago, rounds)`, sides.late);
  console.table([a, b]);
  const summed = (windows) => windows.reduce((sum, w) => sum + w.result.requests.total, 0);
  const perRound = sides.now.map((w, i) => (sides.late[i].result.requests.total / w.result.requests.total).toFixed(3));
  const failed = [...sides.now, ...sides.late].reduce((n, w) => n + w.result.non2xx + w.result.errors, 0);
  console.log(
    `${what}: with occurredAt / without: ${(summed(sides.late) / summed(sides.now)).toFixed(3)} by requests ` +
      `(per round ${perRound.join(', ')}), ${(b['CPU µs/req'] / a['CPU µs/req']).toFixed(3)} by Node CPU per request` +
      `${unit > 1 ? ` (${unit} events a request)` : ''}; failed requests: ${failed}`,
  );
}

try {
  await seedUsers(db, USERS, 1_000_000_000);
  // The rule as it was (in force three hours ago) and as it is (changed an hour ago): a late record
  // is priced by the first, a record of now by the second.
  await db.query(
    `INSERT INTO pricing_rules (model_id, price_per_1k_tokens, output_price_per_1k_tokens, effective_from,
                                effective_to, created_by)
     VALUES ($1, 2, 8, now() - interval '3 hours', now() - interval '1 hour', 'bench'),
            ($1, 2.5, 10, now() - interval '1 hour', NULL, 'bench')`,
    [MODEL],
  );
  log('warming up...');
  await record(now);
  await record(late);
  await batch(now);
  await batch(late);
  log(`${ROUNDS} interleaved rounds of ${WINDOW} s a side, the record route...`);
  report('POST /api/usage/record', await rounds(record));
  log(`${ROUNDS} interleaved rounds of ${WINDOW} s a side, the batch (${BATCH_EVENTS} events)...`);
  report('POST /api/usage/records/batch', await rounds(batch), BATCH_EVENTS);
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}

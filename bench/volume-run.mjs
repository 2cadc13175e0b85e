// node bench/volume-run.mjs (after npm run build; npm run bench:volume builds first): a record on a
// rule with volume steps (docs/pricing.md "Volume steps": the take decides the stepped price against
// the account's period total) against the same record on a rule without steps, alone on a fresh
// database with 1,000 users, in BENCH_ROUNDS interleaved rounds (default 8) of BENCH_DURATION / 2
// seconds each (default 5), compared by summed requests, Node CPU per request and the database's CPU
// per request (its backends', /proc: the database server must run on this machine).
import pg from 'pg';

import { accessToken, freshDatabase, log, postLoad, seedUsers, startServer, startService, userIds } from './lib.mjs';
import { combinedRow, withCpu, withDatabaseCpu } from './measure.mjs';

const USERS = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const WINDOW = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 10) / 2));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const TOKENS = { inputTokens: 1200, outputTokens: 300 };
const MODELS = { plain: 'bench.volume-plain', stepped: 'bench.volume-stepped' };

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_volume');
const service = await startService(database.url, { NODE_ENV: 'test', PRICING_STRICT: 'true', LOG_FORMAT: 'json' });
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const meter = `Bearer ${accessToken('bench-meter', 'admin')}`;
const ids = userIds(USERS);

async function createRule(modelId, extra) {
  const res = await fetch(`${service.base}/api/pricing`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: meter },
    body: JSON.stringify({ modelId, pricePer1kTokens: '2.5', outputPricePer1kTokens: '10', ...extra }),
  });
  if (res.status !== 201) throw new Error(`bench volume rule: ${res.status} ${await res.text()}`);
}

/** Record requests on `model` for random users. */
const run = (model, duration) =>
  postLoad({
    base: service.base,
    connections: CONNECTIONS,
    duration,
    authorization: meter,
    body: () => ({
      userId: ids[Math.floor(Math.random() * ids.length)],
      service: 'chat',
      operation: 'completion',
      modelId: model,
      ...TOKENS,
    }),
  });

/** A window measured: the service's Node CPU, and the database's backends' CPU over the same window. */
const measure = async (model) => {
  const { result, cpuMicros: dbMicros } = await withDatabaseCpu(db, () => withCpu(service, () => run(model, WINDOW)));
  return { ...result, dbMicros };
};

try {
  await seedUsers(db, USERS, 1_000_000_000);
  await createRule(MODELS.plain, {});
  await createRule(MODELS.stepped, {
    volume: {
      mode: 'graduated',
      period: 'month',
      steps: [
        { upTo: 100_000, pricePercent: 100 },
        { upTo: 1_000_000, pricePercent: 80 },
        { upTo: null, pricePercent: 60 },
      ],
    },
  });
  log('warming up...');
  await run(MODELS.plain, 2);
  await run(MODELS.stepped, 2);
  log(`${ROUNDS} interleaved rounds of ${WINDOW} s a side...`);
  const rounds = { plain: [], stepped: [] };
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? ['plain', 'stepped'] : ['stepped', 'plain'];
    for (const side of order) rounds[side].push(await measure(MODELS[side]));
  }
  const plain = combinedRow('POST /api/usage/record (rule without steps, rounds)', rounds.plain);
  const stepped = combinedRow('POST /api/usage/record (rule with volume steps, rounds)', rounds.stepped);
  const summed = (windows) => windows.reduce((sum, w) => sum + w.result.requests.total, 0);
  const dbPerRequest = (windows) => windows.reduce((sum, w) => sum + w.dbMicros, 0) / summed(windows);
  plain['DB µs/req'] = Number(dbPerRequest(rounds.plain).toFixed(1));
  stepped['DB µs/req'] = Number(dbPerRequest(rounds.stepped).toFixed(1));
  console.table([plain, stepped]);
  const perRound = rounds.plain.map((p, i) =>
    (rounds.stepped[i].result.requests.total / p.result.requests.total).toFixed(3),
  );
  console.log(
    `with steps / without: ${(summed(rounds.stepped) / summed(rounds.plain)).toFixed(3)} by requests ` +
      `(per round ${perRound.join(', ')}), ${(stepped['CPU µs/req'] / plain['CPU µs/req']).toFixed(3)} by Node CPU per request, ` +
      `${(stepped['DB µs/req'] / plain['DB µs/req']).toFixed(3)} by database CPU per request`,
  );
} finally {
  await db.end();
  await service.stop();
  await database.drop();
  await server.stop();
}

// npm run bench:record-alone -- [ref …] [--warm N] [--requests N] [--rounds N]: a user's record
// alone, warm, in each build: one client sends records one after another over one kept-alive
// connection (recordsAlone(): each a user's own, by their JWT, as bench:stages sends them),
// `--warm` records first (26,000: Node's CPU a record keeps falling while its JIT warms, for about
// that many), then `--requests` measured (10,000): the wall time a record, the service's Node CPU
// and its database backends' CPU a record (/proc, so the server runs on this machine). Each ref (`.`:
// this checkout, the default; another commit: built by bench/builds.mjs) runs on a fresh database of
// the local server with 1,000 users; `--rounds` (2) repeats the builds, in the other order each
// round. A short window (bench:stages' one connection, 8 s) measures a build still warming.
import path from 'node:path';
import { parseArgs } from 'node:util';

import pg from 'pg';

import { buildOf } from './builds.mjs';
import { freshDatabase, log, recordsAlone, ROOT, startServer, startService } from './lib.mjs';
import { processCpuSeconds, withCpu, withDatabaseCpu } from './measure.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    warm: { type: 'string', default: '26000' },
    requests: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '2' },
  },
});
const WARM = Number(values.warm);
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const refs = positionals.length > 0 ? positionals : ['.'];
async function measure(server, ref) {
  const root = ref === '.' ? ROOT : buildOf(ref);
  const database = await freshDatabase(server.url, 'accounting_record_alone');
  const service = await startService(database.url, { JOBS_ENABLED: 'false', METERING_TRUST: 'users' }, { root });
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  try {
    await (await import(path.join(root, 'bench/lib.mjs'))).seedUsers(db, 1000, 1_000_000_000);
    await recordsAlone(service.base, WARM);
    const started = process.hrtime.bigint();
    const { result, cpuMicros: dbMicros } = await withDatabaseCpu(db, () =>
      withCpu(service, () => recordsAlone(service.base, REQUESTS)),
    );
    const wall = Number(process.hrtime.bigint() - started) / 1000;
    return { wall: wall / REQUESTS, node: result.cpuMicros / REQUESTS, database: dbMicros / REQUESTS };
  } finally {
    await service.stop();
    await db.end();
    await database.drop();
  }
}

processCpuSeconds(process.pid); // this machine's /proc, or stop here
const server = await startServer();
const rows = new Map(refs.map((ref) => [ref, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const ref of round % 2 === 0 ? refs : [...refs].reverse()) {
      log(`round ${round + 1}: ${ref}, ${WARM} records to warm, ${REQUESTS} measured ...`);
      rows.get(ref).push(await measure(server, ref));
    }
  }
} finally {
  await server.stop();
}
const first = refs[0];
const mean = (list, key) => list.reduce((sum, r) => sum + r[key], 0) / list.length;
console.log(
  `\nA record alone, warm (${REQUESTS} after ${WARM}, ${ROUNDS} rounds; µs a record, each round's figure):\n`,
);
console.log('| build | wall | rate ÷ first | Node CPU | database CPU |');
console.log('| --- | --- | --- | --- | --- |');
for (const [ref, list] of rows) {
  const each = (key) => list.map((r) => Math.round(r[key]).toLocaleString('en-US')).join(' / ');
  const ratio = (mean(rows.get(first), 'wall') / mean(list, 'wall')).toFixed(2);
  console.log(`| ${ref} | ${each('wall')} | ${ratio}× | ${each('node')} | ${each('database')} |`);
}

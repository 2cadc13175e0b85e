// npm run bench:record-alone -- [ref …] [--warm N] [--requests N] [--rounds N]: a user's record
// alone, warm, in each build: one client sends records one after another over one kept-alive
// connection (recordsAlone(): each a user's own, by their JWT, as bench:stages sends them),
// `--warm` records first (26,000: Node's CPU a record keeps falling while its JIT warms, for about
// that many), then `--requests` measured (10,000): the wall time a record, the service's Node CPU
// and its database backends' CPU a record (/proc, so the server runs on this machine). Each ref (`.`:
// this checkout, the default; another commit: built by bench/builds.mjs) runs on a fresh database of
// the local server with 1,000 users; `--rounds` (2) repeats the builds, in the other order each
// round. A short window (bench:stages' one connection, 8 s) measures a build still warming. Also the
// WAL a record writes (the server's, so nothing else may write meanwhile), and with `--profile`
// where the backends' time goes: perf's samples of them by function (bench/backend-profile.mjs),
// µs a record in each build over all rounds, the functions that differ most from the first build's.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import pg from 'pg';

import { perfAvailable, PROFILE_HZ, samplesBySymbol, withBackendProfile } from './backend-profile.mjs';
import { buildOf } from './builds.mjs';
import { freshDatabase, log, recordsAlone, ROOT, startServer, startService } from './lib.mjs';
import { processCpuSeconds, withCpu, withDatabaseCpu } from './measure.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    warm: { type: 'string', default: '26000' },
    requests: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
  },
});
const WARM = Number(values.warm);
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const refs = positionals.length > 0 ? positionals : ['.'];
if (values.profile && !perfAvailable()) throw new Error('--profile needs perf (Debian: apt-get install linux-perf)');
const profileDir = values.profile ? await mkdtemp(path.join(tmpdir(), 'record-alone-')) : null;
const walNow = async (db) => (await db.query('SELECT pg_current_wal_lsn() AS lsn')).rows[0].lsn;
/** The WAL bytes the server wrote since `lsn`. */
const walSince = async (db, lsn) =>
  (await db.query('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::float8 AS bytes', [lsn])).rows[0].bytes;
async function measure(server, ref, round) {
  const root = ref === '.' ? ROOT : buildOf(ref);
  const database = await freshDatabase(server.url, 'accounting_record_alone');
  const service = await startService(database.url, { JOBS_ENABLED: 'false', METERING_TRUST: 'users' }, { root });
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  try {
    await (await import(path.join(root, 'bench/lib.mjs'))).seedUsers(db, 1000, 1_000_000_000);
    await recordsAlone(service.base, WARM);
    const profile = profileDir && path.join(profileDir, `${round}-${ref.replace(/\W/g, '_')}.data`);
    const window = () => withCpu(service, () => recordsAlone(service.base, REQUESTS));
    const walBefore = await walNow(db);
    const started = process.hrtime.bigint();
    const { result, cpuMicros: dbMicros } = await withDatabaseCpu(db, () =>
      profile ? withBackendProfile(db, profile, window) : window(),
    );
    const wall = Number(process.hrtime.bigint() - started) / 1000;
    const wal = await walSince(db, walBefore);
    return {
      wall: wall / REQUESTS,
      node: result.cpuMicros / REQUESTS,
      database: dbMicros / REQUESTS,
      wal: wal / REQUESTS,
      samples: profile && samplesBySymbol(profile),
    };
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
      rows.get(ref).push(await measure(server, ref, round));
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
console.log('| build | wall | rate ÷ first | Node CPU | database CPU | WAL bytes |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [ref, list] of rows) {
  const each = (key) => list.map((r) => Math.round(r[key]).toLocaleString('en-US')).join(' / ');
  const ratio = (mean(rows.get(first), 'wall') / mean(list, 'wall')).toFixed(2);
  console.log(`| ${ref} | ${each('wall')} | ${ratio}× | ${each('node')} | ${each('database')} | ${each('wal')} |`);
}
if (profileDir) {
  // µs a record: samples over all rounds ÷ the sampling rate ÷ the records measured
  const micros = (list) => {
    const total = new Map();
    for (const { samples } of list) for (const [key, n] of samples) total.set(key, (total.get(key) ?? 0) + n);
    const scale = 1e6 / PROFILE_HZ / (REQUESTS * list.length);
    return new Map([...total].map(([key, n]) => [key, n * scale]));
  };
  const builds = [...rows].map(([ref, list]) => [ref, micros(list)]);
  const [, base] = builds[0];
  const byObject = (m) => {
    const objects = new Map();
    for (const [key, us] of m) {
      const [object] = key.split(' ');
      objects.set(object, (objects.get(object) ?? 0) + us);
    }
    return objects;
  };
  const fmt = (us) => (us === undefined ? '0' : us.toFixed(1));
  console.log(`\nThe database backends' time by function (perf cpu-clock at ${PROFILE_HZ} Hz; µs a record):\n`);
  console.log(`| object / function | ${builds.map(([ref]) => ref).join(' | ')} |`);
  console.log(`| --- | ${builds.map(() => '---').join(' | ')} |`);
  const objects = builds.map(([, m]) => byObject(m));
  for (const name of [...objects[0].keys()].sort((a, b) => objects[0].get(b) - objects[0].get(a)))
    console.log(`| ${name}, all | ${objects.map((o) => fmt(o.get(name))).join(' | ')} |`);
  const keys = new Set(builds.flatMap(([, m]) => [...m.keys()]));
  const spread = (key) => Math.max(...builds.map(([, m]) => Math.abs((m.get(key) ?? 0) - (base.get(key) ?? 0))));
  for (const key of [...keys].sort((a, b) => spread(b) - spread(a)).slice(0, 20))
    console.log(`| ${key} | ${builds.map(([, m]) => fmt(m.get(key))).join(' | ')} |`);
}

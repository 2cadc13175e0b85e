// Where the database's backends spend their time, by function: Linux perf's cpu-clock samples of the
// backends serving one database over a measured window (no hardware counters needed, so it runs in a
// virtual machine), counted by shared object and symbol. Callgrind counts instructions; this counts
// time, which is what a backend that runs as many instructions but touches more memory pays.
import { spawn, spawnSync } from 'node:child_process';

import { backendPids } from './measure.mjs';

/** perf's sampling frequency (per second of CPU), a prime so it never beats with a timer. */
export const PROFILE_HZ = 997;

/** Whether `perf record` runs here (the package linux-perf on Debian). */
export function perfAvailable() {
  return spawnSync('perf', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Runs `work` with perf sampling the backends serving `db`'s database (other than `db`'s own, listed
 * when it starts); returns its result once perf has written `file`.
 */
export async function withBackendProfile(db, file, work) {
  const pids = await backendPids(db);
  const perf = spawn(
    'perf',
    ['record', '-q', '-e', 'cpu-clock', '-F', String(PROFILE_HZ), '-o', file, '-p', pids.join(',')],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => perf.once('exit', resolve));
  // perf attaches to every thread before it samples; a window starts after it has.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  try {
    return await work();
  } finally {
    perf.kill('SIGINT');
    await exited;
  }
}

/** The samples of a perf.data `file` by "object symbol" (e.g. "plpgsql.so plpgsql_exec_function"). */
export function samplesBySymbol(file) {
  const report = spawnSync(
    'perf',
    ['report', '-i', file, '--no-children', '-n', '--sort', 'dso,sym', '-q', '--stdio'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (report.status !== 0) throw new Error(`perf report ${file}: ${report.stderr.trim()}`);
  const samples = new Map();
  for (const line of report.stdout.split('\n')) {
    // "    3.40%     610  postgres  [.] hash_search_with_hash_value"
    const match = /^\s*[\d.]+%\s+(\d+)\s+(\S+)\s+\[[.k]\]\s+(.+?)\s*$/.exec(line);
    if (!match) continue;
    const key = `${match[2]} ${match[3]}`;
    samples.set(key, (samples.get(key) ?? 0) + Number(match[1]));
  }
  return samples;
}

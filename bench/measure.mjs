// The service's Node CPU over a measured window. On a 2-core machine that the service, PostgreSQL and
// the load generator share, req/s moves with whatever else runs; the CPU the service itself spent
// per request moves much less, so it is the figure to compare between runs.
import { readFileSync } from 'node:fs';

import { METRICS_TOKEN } from './lib.mjs';

/**
 * user + system CPU seconds of the service so far, as the service's own process.cpuUsage() reports
 * them: prom-client's default metrics (src/metrics) compute process_cpu_*_seconds_total from it
 * when GET /metrics is scraped.
 */
export async function cpuSeconds(service) {
  const res = await fetch(`${service.base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  const text = await res.text();
  const counter = (name) => {
    const match = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
    if (!match) throw new Error(`GET /metrics has no ${name}`);
    return Number(match[1]);
  };
  return counter('process_cpu_user_seconds_total') + counter('process_cpu_system_seconds_total');
}

/**
 * Runs `work` between two scrapes; returns its result and the service's CPU over it in µs. The two
 * scrapes cost well under a millisecond of CPU, against seconds spent on the requests measured.
 */
export async function withCpu(service, work) {
  const before = await cpuSeconds(service);
  const result = await work();
  const cpuMicros = ((await cpuSeconds(service)) - before) * 1e6;
  return { result, cpuMicros };
}

/**
 * Seconds of CPU (utime + stime, /proc) the process `pid` has used so far; throws when it has gone.
 * The kernel counts in ticks of 10 ms, so a figure per request or call needs thousands of them.
 * Reads this machine's /proc: the database server must run here to read its backends'.
 */
export function processCpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The machine's CPU ticks so far, all and idle (idle and iowait), from /proc/stat. */
export function machineTicks() {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  return { all: fields.reduce((a, b) => a + b, 0), idle: fields[3] + fields[4] };
}

/** CPU milliseconds used so far by each of these processes (a process that has gone counts 0). */
function processCpuMs(pids) {
  const ms = new Map();
  for (const pid of pids) {
    try {
      ms.set(pid, processCpuSeconds(pid) * 1000);
    } catch {
      ms.set(pid, 0);
    }
  }
  return ms;
}

/** The pids of the database's backends serving `db`'s database, other than `db`'s own connection. */
export async function backendPids(db) {
  const { rows } = await db.query(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  return rows.map((r) => r.pid);
}

/**
 * Runs `work`; returns its result and the CPU µs that the database's backends serving `db`'s
 * database (other than `db`'s own) spent over it. A pool closes idle connections and opens new ones,
 * so the backends are listed before and after: one that started meanwhile counts from 0; one that
 * ended meanwhile (a connection idle past the pool's timeout, so idle in the window) counts nothing.
 */
export async function withDatabaseCpu(db, work) {
  const first = await backendPids(db);
  const before = processCpuMs(first);
  const result = await work();
  const pids = [...new Set([...first, ...(await backendPids(db))])];
  const after = processCpuMs(pids);
  const ms = pids.reduce((sum, pid) => sum + Math.max(after.get(pid) - (before.get(pid) ?? 0), 0), 0);
  return { result, cpuMicros: ms * 1000 };
}

/** The p-th percentile of ascending `sorted` (null when empty). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Answers that were not 2xx, connection errors and timeouts of an autocannon result. */
export const failures = (r) => r.non2xx + r.errors + r.timeouts;

/**
 * A row of the results table. `units` is what the rate and the CPU are per: requests by default, or
 * events of a batch, or initialize + finalize pairs.
 */
export function row(scenario, { rate, p50, p99, cpuMicros, units, failed }) {
  return {
    scenario,
    'req/s': Math.round(rate),
    'p50 ms': p50,
    'p99 ms': p99,
    'CPU µs/req': units > 0 ? Number((cpuMicros / units).toFixed(1)) : null,
    'non-2xx': failed,
    total: units,
  };
}

/** The row of one autocannon run measured with withCpu(). */
export const requestRow = (scenario, { result: r, cpuMicros }) =>
  row(scenario, {
    rate: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuMicros,
    units: r.requests.total,
    failed: failures(r),
  });

/**
 * One row for several windows of one scenario measured with withCpu(): requests and CPU summed, the
 * rate averaged over the windows; p50 the windows' mean and p99 the worst window's (autocannon
 * gives percentiles, not histograms, so they cannot be merged exactly).
 */
export function combinedRow(scenario, windows) {
  const sum = (f) => windows.reduce((total, w) => total + f(w), 0);
  return row(scenario, {
    rate: sum((w) => w.result.requests.average) / windows.length,
    p50: Math.round(sum((w) => w.result.latency.p50) / windows.length),
    p99: Math.max(...windows.map((w) => w.result.latency.p99)),
    cpuMicros: sum((w) => w.cpuMicros),
    units: sum((w) => w.result.requests.total),
    failed: sum((w) => failures(w.result)),
  });
}

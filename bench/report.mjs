// What npm run bench prints once the run is over: the results table (every row's rate also as a
// multiple of pgbench TPC-B on the same server), the comparisons with pgbench, one line per composite
// scenario, a Targets table with the measured figure and whether each target
// is met, and, given the figures of another build's run (BENCH_BASELINE), each row against it.
import { readFileSync } from 'node:fs';

/** Scenario names that the comparisons and targets look rows up by. */
export const SCENARIO = {
  balance: 'GET /api/credits/balance',
  record: 'POST /api/usage/record (random user)',
  // The same record paid by an organisation (5 orgs of 40 members, a member limit on each).
  recordOrg: 'POST /api/usage/record (org members: 5 orgs × 40)',
  // Rate, latency and CPU per pair; non-2xx counts requests.
  pair: 'POST /api/streaming-sessions/initialize + finalize (per pair)',
  // Rate and CPU per event; latency and non-2xx per 1,000-event request.
  batch: 'POST /api/usage/records/batch (per event; latency per batch)',
  check: 'POST /api/credits/check',
  // The same call recorded from token kinds and from the provider's usage object (interleaved rounds).
  recordKinds: 'POST /api/usage/record (token kinds, rounds)',
  recordProvider: 'POST /api/usage/record (providerUsage, rounds)',
  // The same call without and with a service tier and units (interleaved rounds).
  recordPlain: 'POST /api/usage/record (tokens only, rounds)',
  recordDimensions: 'POST /api/usage/record (tier and units, rounds)',
  // Feature checks (bench/features.mjs) with the user's own token: a boolean, a metered one without
  // consumption, and the metered one consuming one use.
  featureCheck: 'POST /api/entitlements/check (boolean)',
  featureCheckMetered: 'POST /api/entitlements/check (metered, no consume)',
  featureConsume: 'POST /api/entitlements/check (consume 1)',
};

const pct = (x) => `${(x * 100).toFixed(1)} %`;
const times = (x) => `${x.toFixed(2)}×`;
const thousands = (x) => Math.round(x).toLocaleString('en-US');

function printScenarioLines(r, rows) {
  if (r.pgbenchTps !== null) {
    console.log(
      `pgbench TPC-B (scale 32, -c ${r.connections} -j 2 -T ${r.duration}) on the same server: ` +
        `${r.pgbenchTps.toFixed(0)} tps (mean of ${r.pgbenchRuns.map((x) => x.toFixed(0)).join(' before and ')} after the scenarios)`,
    );
    const { record } = rows;
    console.log(
      `  ${SCENARIO.record}: ${times(record['req/s'] / r.pgbenchTps)} pgbench TPC-B ` +
        `(${thousands(record['req/s'])} req/s vs ${thousands(r.pgbenchTps)} tps; target ≥ 0.60×)`,
    );
  } else {
    console.log('pgbench not found: TPC-B comparison skipped');
  }
  const w = r.webhook;
  const rounds = w.perRound.map((x) => `${(x * 100).toFixed(0)} %`).join(', ');
  console.log(
    `Webhook on "*": record route at ${pct(w.ratio)} of the no-webhook figure over ${w.rounds} interleaved ` +
      `rounds of ${w.window} s (${w.baseline} req/s without; rounds ${rounds}); ${w.delivered}/${w.emitted} ` +
      `events delivered, commit → receipt p50 ${w.p50} ms, p99 ${w.p99} ms, max ${w.max} ms`,
  );
  console.log(
    `Spend controls (key budget + hourly limit): ${pct(r.spend.vsKey)} of records through keys without them, ` +
      `${pct(r.spend.vsRecord)} of plain (JWT) records in this run`,
  );
  const b = r.batch;
  console.log(
    `Batch ingestion (4 clients × 1,000-event batches): ${thousands(b.eventsPerSecond)} events/s; ` +
      `batch p50 ${b.p50} ms, p99 ${b.p99} ms; Node CPU ${b.cpuMicrosPerEvent?.toFixed(1)} µs per event`,
  );
  const { pair, record } = rows;
  console.log(
    `Streaming pair (initialize + finalize): ${pair['req/s']} pairs/s, p50 ${pair['p50 ms']} ms, ` +
      `p99 ${pair['p99 ms']} ms, Node CPU ${pair['CPU µs/req']} µs per pair; a pair costs ` +
      `${times(record['req/s'] / pair['req/s'])} a record by throughput, ` +
      `${times(pair['CPU µs/req'] / record['CPU µs/req'])} by CPU`,
  );
  const m = r.money;
  console.log(
    `Money after the run: ${m.records} records; reconcile ${m.mismatches} mismatches over ${m.checkedAllocations} ` +
      `allocations, ${m.negative} negative allocations, ${m.unbalanced_records} records whose ledger lines differ, ` +
      `${m.member_counters_off ?? 0} org member counters that differ from their ledger lines`,
  );
}

/** Each target: what it asks, the figure measured, and met / NOT met (n/a without pgbench). */
function targets(r, rows) {
  const { balance, record, pair, batch } = rows;
  const tps = r.pgbenchTps;
  const w = r.webhook;
  const m = r.money;
  const failed = r.results.reduce((sum, x) => sum + x['non-2xx'], 0);
  const clean =
    m.mismatches === 0 && m.negative === 0 && m.unbalanced_records === 0 && (m.member_counters_off ?? 0) === 0;
  const target = (name, goal, measured, met) => ({ target: name, goal, measured, result: met ? 'met' : 'NOT met' });
  const vsPgbench = (name, goal, rate, least) =>
    tps === null
      ? { target: name, goal, measured: 'no pgbench', result: 'n/a' }
      : target(name, goal, `${times(rate / tps)} (${thousands(rate)}/s vs ${thousands(tps)} tps)`, rate / tps >= least);
  const pairByRate = record['req/s'] / pair['req/s'];
  const pairByCpu = pair['CPU µs/req'] / record['CPU µs/req'];
  return [
    vsPgbench('32: record (random user) vs pgbench TPC-B', '≥ 0.6×', record['req/s'], 0.6),
    vsPgbench('32: batch vs pgbench TPC-B', '≥ 8×', batch['req/s'], 8),
    target('batch events/s', '≥ 20,000', thousands(batch['req/s']), batch['req/s'] >= 20_000),
    vsPgbench('batch vs pgbench TPC-B', '≥ 5×', batch['req/s'], 5),
    vsPgbench('record (random user) vs pgbench', '≥ 0.5×', record['req/s'], 0.5),
    target('pair cost, by throughput', '≤ 2× record', times(pairByRate), pairByRate <= 2),
    target('pair cost, by Node CPU', '≤ 2× record', times(pairByCpu), pairByCpu <= 2),
    target('balance Node CPU', '≤ 150 µs/req', `${balance['CPU µs/req']} µs`, balance['CPU µs/req'] <= 150),
    target('record Node CPU', '≤ 250 µs/req', `${record['CPU µs/req']} µs`, record['CPU µs/req'] <= 250),
    target('batch Node CPU', '≤ 20 µs/event', `${batch['CPU µs/req']} µs`, batch['CPU µs/req'] <= 20),
    target('record with webhook on "*"', '≥ 90 % without', pct(w.ratio), w.ratio >= 0.9),
    target(
      'webhook delivery commit → receipt',
      'p99 ≤ 2 s, all delivered',
      `p99 ${w.p99} ms, ${w.delivered}/${w.emitted}`,
      w.p99 !== null && w.p99 <= 2000 && w.delivered === w.emitted,
    ),
    target('spend controls (key budget + hourly)', '≥ 90 % keys without', pct(r.spend.vsKey), r.spend.vsKey >= 0.9),
    target(
      'record from providerUsage, Node CPU',
      '≤ 1.05× token kinds',
      times(r.providerUsage.cpuRatio),
      r.providerUsage.cpuRatio <= 1.05,
    ),
    ...(r.dimensions
      ? [
          target(
            'record with a tier and units, by requests',
            '≥ 95 % without',
            pct(r.dimensions.requestRatio),
            r.dimensions.requestRatio >= 0.95,
          ),
          target(
            'record with a tier and units, Node CPU',
            '≤ 1.05× without',
            times(r.dimensions.cpuRatio),
            r.dimensions.cpuRatio <= 1.05,
          ),
        ]
      : []),
    ...(r.pricing
      ? [
          target(
            'record with an account price in force',
            '≥ 95 % without',
            pct(r.pricing.accountPriceRatio),
            r.pricing.accountPriceRatio >= 0.95,
          ),
          target(
            'simulation over 1,000,000 records',
            '< 5 s',
            `${r.pricing.simulation.seconds.toFixed(2)} s`,
            r.pricing.simulation.seconds < 5 && r.pricing.simulation.records >= 1_000_000,
          ),
        ]
      : []),
    ...[
      ['feature check (boolean) vs balance', rows.featureCheck, balance],
      ['feature check (metered, no consume) vs balance', rows.featureCheckMetered, balance],
      ['feature check (consume 1) vs record', rows.featureConsume, record],
    ]
      .filter(([, row]) => row)
      .map(([name, row, against]) =>
        target(name, '≥ 0.9×', times(row['req/s'] / against['req/s']), row['req/s'] / against['req/s'] >= 0.9),
      ),
    target('non-2xx over all measured runs', '0', String(failed), failed === 0),
    target('money after the run', 'clean', clean ? 'clean' : 'NOT CLEAN', clean),
  ];
}

/**
 * Each row of this run against the same row of `baseline` (another build's BENCH_JSON, same machine):
 * the rate as a multiple of each run's own TPC-B, which takes out most of what a shared machine's
 * load does to both, and the Node CPU per request. The target: balance, check and the streaming pairs
 * no slower than the baseline.
 */
function baselineRows(r, baseline) {
  const change = (now, before) =>
    before ? `${now >= before ? '+' : ''}${(((now - before) / before) * 100).toFixed(1)} %` : '—';
  return r.results.flatMap((x) => {
    const old = baseline.results.find((y) => y.scenario === x.scenario);
    if (!old) return [];
    const byTpcb = (row, run) => (run.pgbenchTps ? row['req/s'] / run.pgbenchTps : null);
    return [
      {
        scenario: x.scenario,
        'vs TPC-B before': byTpcb(old, baseline)?.toFixed(3) ?? '—',
        'vs TPC-B now': byTpcb(x, r)?.toFixed(3) ?? '—',
        'rate change (by TPC-B)':
          byTpcb(old, baseline) && byTpcb(x, r) ? change(byTpcb(x, r), byTpcb(old, baseline)) : '—',
        'CPU µs/req before': old['CPU µs/req'],
        'CPU µs/req now': x['CPU µs/req'],
        'CPU change': change(x['CPU µs/req'], old['CPU µs/req']),
      },
    ];
  });
}

/** `r`: the run's figures (see bench/run.mjs); `baselinePath`: another run's BENCH_JSON to compare with. */
export function printReport(r, baselinePath) {
  const rows = Object.fromEntries(
    Object.entries(SCENARIO).map(([key, name]) => [key, r.results.find((x) => x.scenario === name)]),
  );
  console.log(
    `\nBenchmark: ${r.connections} connections × ${r.duration} s per scenario, ${r.users} users, ` +
      'built service (NODE_ENV=test, as production otherwise); CPU µs/req: the service process over the measured window; ' +
      '× TPC-B: the rate over pgbench TPC-B on the same server in this run\n',
  );
  console.table(
    r.results.map((x) => ({ ...x, '× TPC-B': r.pgbenchTps ? Number((x['req/s'] / r.pgbenchTps).toFixed(2)) : null })),
  );
  printScenarioLines(r, rows);
  console.log('\nTargets');
  console.table(targets(r, rows));
  if (baselinePath) {
    const baseline = JSON.parse(readFileSync(baselinePath, 'utf8'));
    console.log(`\nAgainst ${baselinePath} (balance, check and streaming pairs no slower)`);
    console.table(baselineRows(r, baseline));
  }
}

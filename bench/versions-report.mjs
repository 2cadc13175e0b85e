// What the versions run of npm run bench (versions.mjs) prints: the references measured in the same
// run (pgbench TPC-B, pgbench -S, the batch's write floor), one row per scenario with every build's
// rate in each round, this checkout against each earlier build, and each rate against its reference
// (reads against pgbench -S, one-request writes against TPC-B, the batch against its floor); then the
// targets (this checkout against e2b60bd and ea41367, the default BENCH_VERSIONS).

/** Scenario names, as versions.mjs measures them and the targets look them up. */
export const VERSION_SCENARIO = {
  balance: 'GET /api/credits/balance',
  check: 'POST /api/credits/check',
  pair: 'streaming pair (initialize + finalize, per pair)',
  record: 'POST /api/usage/record (random user)',
  recordOrg: 'POST /api/usage/record (org members: 5 orgs × 40)',
  hot: 'POST /api/usage/record (one user)',
  batch: 'POST /api/usage/records/batch (per event)',
};

const OLDER = 'e2b60bd';
const OLD = 'ea41367';
const READS = new Set([VERSION_SCENARIO.balance, VERSION_SCENARIO.check]);

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const thousands = (x) => Math.round(x).toLocaleString('en-US');
const times = (x) => `${x.toFixed(2)}×`;

/** The reference a scenario's rate is compared with, and its name. */
function referenceOf(r, scenario) {
  if (READS.has(scenario)) return { name: 'pgbench -S', rate: r.selectOnlyMean };
  if (scenario === VERSION_SCENARIO.batch) return { name: 'write floor', rate: r.floorMean };
  return { name: 'TPC-B', rate: r.tpcbMean };
}

export function printVersions(r, scenarios = VERSION_SCENARIO) {
  const runs = (xs) => xs.map(thousands).join(' / ');
  console.log(
    `\nVersions, measured side by side in one run (${r.rounds} rounds of ${r.duration} s, ${r.connections} connections)`,
  );
  console.log(`  pgbench TPC-B (scale 32): ${runs(r.tpcb)} tps before / after, mean ${thousands(r.tpcbMean)}`);
  console.log(
    `  pgbench -S (select only): ${runs(r.selectOnly)} tps before / after, mean ${thousands(r.selectOnlyMean)}`,
  );
  console.log(
    `  write floor of a batch event: ${runs(r.floor)} events/s before / after, mean ${thousands(r.floorMean)}`,
  );

  const current = r.versions.at(-1);
  const earlier = r.versions.slice(0, -1);
  const rate = (v, scenario) => (v.results[scenario] ? mean(v.results[scenario].map((x) => x.rate)) : null);
  // The scenarios this run measured (BENCH_SCENARIOS may have named a few).
  const measured = Object.values(scenarios).filter((scenario) => current.results[scenario]);
  const rows = measured.map((scenario) => {
    const ref = referenceOf(r, scenario);
    const row = { scenario };
    for (const v of r.versions) {
      const windows = v.results[scenario];
      row[v.label] = windows
        ? `${thousands(rate(v, scenario))} (${windows.map((x) => thousands(x.rate)).join('/')})`
        : '—';
    }
    for (const v of earlier) {
      const before = rate(v, scenario);
      row[`÷ ${v.label}`] = before ? times(rate(current, scenario) / before) : '—';
    }
    row[`× reference`] = `${times(rate(current, scenario) / ref.rate)} ${ref.name}`;
    const cpu = current.results[scenario].map((x) => x.cpuMicros).filter((x) => x !== null);
    row['CPU µs'] = cpu.length > 0 ? Math.round(mean(cpu)) : null;
    return row;
  });
  console.table(rows);

  const failed = r.versions.flatMap((v) => Object.values(v.results).flat()).reduce((sum, x) => sum + x.failed, 0);
  const byLabel = (label) => r.versions.find((v) => v.label === label);
  const older = byLabel(OLDER);
  const old = byLabel(OLD);
  const target = (name, goal, value, least) => ({
    target: name,
    goal,
    measured: value === null ? '—' : times(value),
    result: value === null ? 'n/a' : value >= least ? 'met' : 'NOT met',
  });
  const ratio = (a, b) => (a && b ? a / b : null);
  const vs = (v, scenario) => (v ? ratio(rate(current, scenario), rate(v, scenario)) : null);
  const S = VERSION_SCENARIO;
  console.table([
    target(`balance vs ${OLDER}`, '≥ 1.00×', vs(older, S.balance), 1),
    target(`balance vs ${OLD}`, '≥ 1.40×', vs(old, S.balance), 1.4),
    target(`check vs ${OLDER}`, '≥ 1.00×', vs(older, S.check), 1),
    target(`check vs ${OLD}`, '≥ 1.40×', vs(old, S.check), 1.4),
    target(`streaming pairs vs ${OLDER}`, '≥ 1.00×', vs(older, S.pair), 1),
    target('record (random user) vs TPC-B', '≥ 0.60×', ratio(rate(current, S.record), r.tpcbMean), 0.6),
    target(
      'org member record vs user record',
      '≥ 0.90×',
      ratio(rate(current, S.recordOrg), rate(current, S.record)),
      0.9,
    ),
    target('batch vs its write floor', '≥ 0.75×', ratio(rate(current, S.batch), r.floorMean), 0.75),
    // One user's records serialise on its lock: "no slower" within the ±5 % a window moves by here.
    target(`hot user vs ${OLD}`, '≥ 0.95×', vs(old, S.hot), 0.95),
    {
      target: 'non-2xx answers and batch events not written, every build and window',
      goal: '0',
      measured: String(failed),
      result: failed === 0 ? 'met' : 'NOT met',
    },
  ]);
}

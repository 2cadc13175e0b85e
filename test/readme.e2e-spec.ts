import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { buildDatabaseConfig } from '../src/config/app-config.js';
import { buildDataSourceOptions } from '../src/database/data-source-options.js';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from './support/app.js';

/**
 * The README's walkthrough, as a newcomer pastes it: every ```bash block after a `<!-- walkthrough
 * -->` line runs, in order, in one bash session against a freshly started service on a database of
 * its own; each answer must carry every literal `"field":value` of the `# →` line after its command
 * (values with `…` are left out), or start with the line's text when it shows no JSON.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INTERNAL_KEY = 'readme-internal-key-that-is-long-enough-01';
const missing = ['curl', 'jq'].filter(
  (tool) => !['/usr/bin', '/bin', '/usr/local/bin'].some((d) => existsSync(`${d}/${tool}`)),
);
if (missing.length) console.warn(`README walkthrough test skipped: ${missing.join(' and ')} not installed`);

interface Step {
  command: string;
  expected?: string;
}

/** The walkthrough's commands (continuation lines joined) and the answer shown after each. */
export function walkthroughSteps(readme: string): Step[] {
  const blocks = [...readme.matchAll(/<!-- walkthrough -->\s*```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
  const steps: Step[] = [];
  for (const block of blocks) {
    const lines = block.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.startsWith('# →')) {
        let expected = line.slice(3).trim();
        while (/^#\s{3,}"/.test(lines[i + 1] ?? '')) expected += lines[++i].slice(1).trim();
        const last = steps[steps.length - 1];
        if (last) last.expected = expected;
      } else if (line.trim() && !line.trimStart().startsWith('#')) {
        let command = line;
        while (command.endsWith('\\')) command += `\n${lines[++i]}`;
        steps.push({ command });
      }
    }
  }
  return steps;
}

/** Every key → value pair anywhere in a JSON value. */
function pairsOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => pairsOf(v, into));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (v === null || typeof v !== 'object') into.add(`"${k}":${JSON.stringify(v)}`);
      pairsOf(v, into);
    }
  return into;
}

function problemWith(step: Step, output: string): string | null {
  if (!step.expected) return null;
  const literals = [
    ...step.expected.matchAll(/"([^"]+)":("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)(?=[,}\]])/g),
  ]
    .filter((m) => !m[2].includes('…'))
    .map((m) => `"${m[1]}":${m[2]}`);
  if (literals.length === 0) {
    const text = step.expected.split('…')[0].trim();
    return output.trim().startsWith(text) ? null : `expected output starting with ${text}`;
  }
  let actual: unknown;
  try {
    actual = JSON.parse(output);
  } catch {
    return `expected JSON with ${literals.join(', ')}`;
  }
  const have = pairsOf(actual);
  const absent = literals.filter((l) => !have.has(l));
  return absent.length ? `the answer lacks ${absent.join(', ')}` : null;
}

let t: TestApp;
let dbName: string;
let workDir: string;

describe.skipIf(missing.length > 0)('the README walkthrough', () => {
  beforeAll(async () => {
    // A database of its own: the walkthrough's users (alice, bob) and its totals must start empty.
    dbName = `accounting_readme_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(inject('adminDatabaseUrl'));
    url.pathname = `/${dbName}`;
    const dataSource = new DataSource({
      ...buildDataSourceOptions({ ...buildDatabaseConfig({ DATABASE_URL: url.toString() }), url: url.toString() }),
      migrationsRun: false,
    });
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    await dataSource.destroy();
    // The default trust mode: the walkthrough meters as a service, as a newcomer's service would.
    t = await startTestApp({ DATABASE_URL: url.toString(), INTERNAL_API_KEY: INTERNAL_KEY, METERING_TRUST: 'service' });
    await t.app.listen(0, '127.0.0.1');
    workDir = await mkdtemp(path.join(tmpdir(), 'readme-walkthrough-'));
  });
  afterAll(async () => {
    await t?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });

  it('answers every command as the README shows', async () => {
    const steps = walkthroughSteps(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(steps.filter((s) => s.expected).length).toBeGreaterThan(20);
    const port = (t.app.getHttpServer().address() as AddressInfo).port;
    // `localhost:3001` in the commands reaches the test service; npm runs in the repository.
    const prelude = [
      `curl() { local a=(); for x in "$@"; do a+=("\${x//localhost:3001/127.0.0.1:${port}}"); done; command curl "\${a[@]}"; }`,
      `npm() { (cd ${JSON.stringify(ROOT)} && command npm "$@"); }`,
    ];
    const script = [...prelude, ...steps.flatMap((step, i) => [step.command, `printf '\\n@@STEP ${i}@@\\n'`])].join(
      '\n',
    );
    const { stdout } = await promisify(execFile)('bash', ['-c', script], {
      cwd: workDir,
      env: { ...process.env, JWT_ACCESS_SECRET: TEST_JWT_SECRET, INTERNAL_API_KEY: INTERNAL_KEY },
      maxBuffer: 10 * 1024 * 1024,
    });
    const outputs = stdout.split(/\n?@@STEP \d+@@\n/);
    const problems = steps
      .map((step, i) => ({ step, problem: problemWith(step, outputs[i] ?? '') }))
      .filter(({ problem }) => problem)
      .map(({ step, problem }) => `${step.command}\n  → ${problem}; got ${outputs[steps.indexOf(step)]}`);
    expect(problems).toEqual([]);
  });
});

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type FreshCopy, freshCopy, ROOT, startCopy, type StartedCopy, withTimeout } from './support/fresh-copy.js';

/**
 * The README's walkthrough, as a newcomer pastes it: every ```bash block after a `<!-- walkthrough
 * -->` line runs, in order, in one bash session against a plain `npm start` of a fresh copy (its own
 * embedded PostgreSQL, nothing configured); each answer must carry every literal `"field":value` of
 * the `# →` line after its command (values with `…` are left out), or start with the line's text when
 * it shows no JSON. Before, it ran against a test app with an INTERNAL_API_KEY and its own secrets,
 * and the README showed steps a plain `npm start` answers differently.
 */
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
        // A command goes on after a trailing backslash, and while a single-quoted string is open
        // (a JSON body laid out over several lines).
        while (command.endsWith('\\') || (command.match(/'/g)?.length ?? 0) % 2 === 1) command += `\n${lines[++i]}`;
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

let copy: FreshCopy;
let service: StartedCopy;
let port: number;
let workDir: string;

describe.skipIf(missing.length > 0)('the README walkthrough', () => {
  beforeAll(async () => {
    // A plain `npm start` as a newcomer runs it: a fresh copy, no configuration at all (so the
    // embedded PostgreSQL, empty, the development secrets, METERING_TRUST's default, no
    // INTERNAL_API_KEY), the built server started the way `npm start` starts it once built.
    copy = await freshCopy();
    service = startCopy(copy.dir, {});
    port = await withTimeout(service.port, 150_000, 'npm start');
    workDir = await mkdtemp(path.join(tmpdir(), 'readme-walkthrough-'));
  }, 300_000);
  afterAll(async () => {
    if (service && service.child.exitCode === null && service.child.signalCode === null) {
      service.interrupt();
      await withTimeout(service.exit, 30_000, 'stop');
    }
    await copy?.remove();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  it('answers every command as the README shows', async () => {
    const steps = walkthroughSteps(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(steps.filter((s) => s.expected).length).toBeGreaterThanOrEqual(12);
    // `localhost:3001` in the commands reaches the test service; npm runs in the repository.
    const prelude = [
      `curl() { local a=(); for x in "$@"; do a+=("\${x//localhost:3001/127.0.0.1:${port}}"); done; command curl "\${a[@]}"; }`,
      `npm() { (cd ${JSON.stringify(ROOT)} && command npm "$@"); }`,
    ];
    const script = [...prelude, ...steps.flatMap((step, i) => [step.command, `printf '\\n@@STEP ${i}@@\\n'`])].join(
      '\n',
    );
    // The newcomer's shell knows no secrets either.
    const { JWT_ACCESS_SECRET: _j, INTERNAL_API_KEY: _i, DATABASE_URL: _d, ...shellEnv } = process.env;
    const { stdout } = await promisify(execFile)('bash', ['-c', script], {
      cwd: workDir,
      env: shellEnv,
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

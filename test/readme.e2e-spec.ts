import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { findProvider } from '@pydantic/genai-prices';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type FreshCopy, freshCopy, ROOT, startCopy, type StartedCopy, withTimeout } from './support/fresh-copy.js';
import { type Kinds, ProviderStandIn } from './support/provider-stand-in.js';

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

/** The ```bash blocks after each `<!-- marker -->` line of the README. */
const blocksAfter = (readme: string, marker: string, lang = 'bash') =>
  [...readme.matchAll(new RegExp(`<!-- ${marker} -->\\s*\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]);

/** The walkthrough's commands (continuation lines joined) and the answer shown after each. */
export function walkthroughSteps(readme: string, marker = 'walkthrough'): Step[] {
  const blocks = blocksAfter(readme, marker);
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

/** Runs `steps` in one bash session after `prelude`, in `cwd`; the problems of their answers, and the answers. */
async function runSteps(steps: Step[], prelude: string[], cwd: string, after: string[] = []) {
  const script = [
    ...prelude,
    ...steps.flatMap((step, i) => [step.command, `printf '\\n@@STEP ${i}@@\\n'`]),
    ...after,
  ].join('\n');
  // The newcomer's shell knows no secrets either.
  const { JWT_ACCESS_SECRET: _j, INTERNAL_API_KEY: _i, DATABASE_URL: _d, ...shellEnv } = process.env;
  const { stdout } = await promisify(execFile)('bash', ['-c', script], {
    cwd,
    env: shellEnv,
    maxBuffer: 10 * 1024 * 1024,
  });
  const outputs = stdout.split(/\n?@@STEP \d+@@\n/);
  const problems = steps
    .map((step, i) => ({ step, problem: problemWith(step, outputs[i] ?? '') }))
    .filter(({ problem }) => problem)
    .map(({ step, problem }) => `${step.command}\n  → ${problem}; got ${outputs[steps.indexOf(step)]}`);
  return { problems, outputs };
}

/** `localhost:3001` in the commands reaches the test service; npm runs in the repository. */
const preludeFor = (port: number) => [
  `curl() { local a=(); for x in "$@"; do a+=("\${x//localhost:3001/127.0.0.1:${port}}"); done; command curl "\${a[@]}"; }`,
  `npm() { (cd ${JSON.stringify(ROOT)} && command npm "$@"); }`,
];

/** The installed catalogue's price of a model now, in USD per million tokens (millionths, exact), below any tier. */
function catalogueUsd(provider: string, model: string): { input: bigint; output: bigint } {
  const entry = findProvider({ providerId: provider })!.models.find((m) => m.id === model)!;
  type Prices = Record<string, number | { base: number }>;
  const periods: { constraint?: { start_date?: string }; prices: Prices }[] = Array.isArray(entry.prices)
    ? (entry.prices as { constraint?: { start_date?: string }; prices: Prices }[])
    : [{ prices: entry.prices as Prices }];
  const now = new Date().toISOString().slice(0, 10);
  const prices = periods.filter((p) => (p.constraint?.start_date ?? '') <= now).at(-1)!.prices;
  const micro = (p: number | { base: number }) => BigInt(Math.round((typeof p === 'number' ? p : p.base) * 1e6));
  return { input: micro(prices.input_mtok), output: micro(prices.output_mtok) };
}

/** The catalogue's charge of a usage at the defaults (CREDITS_PER_USD 1000, no markup), rounded up once. */
function catalogueCredits(provider: string, model: string, k: Kinds): number {
  const p = catalogueUsd(provider, model);
  const numerator = (BigInt(k.input) * p.input + BigInt(k.output) * p.output) * 1000n;
  const denominator = 10n ** 12n;
  return Number((numerator + denominator - 1n) / denominator);
}

let copy: FreshCopy;
let service: StartedCopy;
let port: number;
let workDir: string;
let standIn: ProviderStandIn;

describe.skipIf(missing.length > 0)('the README walkthrough', () => {
  beforeAll(async () => {
    // A plain `npm start` as a newcomer runs it: a fresh copy, no configuration at all (so the
    // embedded PostgreSQL, empty, the development secrets, METERING_TRUST's default, no
    // INTERNAL_API_KEY), the built server started the way `npm start` starts it once built.
    copy = await freshCopy();
    service = startCopy(copy.dir, {});
    port = await withTimeout(service.port, 150_000, 'npm start');
    workDir = await mkdtemp(path.join(tmpdir(), 'readme-walkthrough-'));
    standIn = new ProviderStandIn();
  }, 300_000);
  afterAll(async () => {
    if (service && service.child.exitCode === null && service.child.signalCode === null) {
      service.interrupt();
      await withTimeout(service.exit, 30_000, 'stop');
    }
    await copy?.remove();
    await standIn?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  const readme = () => readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const vars = () => path.join(workDir, 'walkthrough-vars.sh');

  it('answers every command as the README shows', async () => {
    const steps = walkthroughSteps(readme());
    expect(steps.filter((s) => s.expected).length).toBeGreaterThanOrEqual(12);
    // The walkthrough's shell variables, for the gateway's part (its second terminal stays open).
    const names = [...new Set(steps.flatMap((s) => /^([A-Z_]+)=/.exec(s.command)?.[1] ?? []))];
    const { problems } = await runSteps(steps, preludeFor(port), workDir, [
      `declare -p ${names.join(' ')} > ${vars()}`,
    ]);
    expect(problems).toEqual([]);
  });

  /**
   * "The gateway in five minutes", after the walkthrough as a newcomer goes on: the service restarted
   * on its data with the README's start line (its upstreams pointed at a provider stand-in on
   * 127.0.0.1, which the README says needs WEBHOOK_ALLOW_PRIVATE_URLS=true), the curl commands as
   * written, then the SDK snippet run with the real openai and @anthropic-ai/sdk packages; each call
   * charged the catalogue's price of the usage the stand-in reported. Before, the README's KEY was a
   * read-only key (403) and its models had no price on a fresh database.
   */
  it('runs the gateway in five minutes, each call charged at the catalogue price', async () => {
    expect(existsSync(vars())).toBe(true);
    // The start line, as bash reads it: what it sets for `npm start`.
    const [start] = blocksAfter(readme(), 'gateway-start');
    const env = (name: string) =>
      new Set(
        readFileSync(path.join(workDir, name), 'utf8')
          .split('\0')
          .filter((l) => l && !l.startsWith('_=')),
      );
    await promisify(execFile)(
      'bash',
      ['-c', `npm() { env -0 > "$out"; }\nout=base-env; npm start\nout=start-env\n${start}`],
      { cwd: workDir },
    );
    const base = env('base-env');
    const set = Object.fromEntries(
      [...env('start-env')]
        .filter((line) => !base.has(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(Object.keys(set).sort()).toEqual(['ANTHROPIC_API_KEY', 'GATEWAY_UPSTREAMS', 'OPENAI_API_KEY']);
    const url = await standIn.start();
    const upstreams = (JSON.parse(set.GATEWAY_UPSTREAMS) as { baseUrl: string }[]).map((u) => ({ ...u, baseUrl: url }));
    service.interrupt();
    await withTimeout(service.exit, 30_000, 'stop');
    service = startCopy(copy.dir, {
      ...set,
      GATEWAY_UPSTREAMS: JSON.stringify(upstreams),
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    });
    port = await withTimeout(service.port, 150_000, 'npm start with the gateway');

    const kinds: Kinds = { input: 1_200, cacheRead: 0, cacheWrite: 0, output: 300, reasoning: 0 };
    standIn.kinds = kinds;
    // hello.mjs where the README's `npm install openai @anthropic-ai/sdk` would have put the SDKs.
    const [snippet] = blocksAfter(readme(), 'gateway-sdk', 'js');
    const sdkDir = path.join(workDir, 'sdk');
    await mkdir(path.join(sdkDir, 'node_modules', '@anthropic-ai'), { recursive: true });
    const meterModules = path.join(ROOT, 'clients', 'meter', 'node_modules');
    await symlink(path.join(meterModules, 'openai'), path.join(sdkDir, 'node_modules', 'openai'));
    await symlink(
      path.join(meterModules, '@anthropic-ai', 'sdk'),
      path.join(sdkDir, 'node_modules', '@anthropic-ai', 'sdk'),
    );
    await writeFile(path.join(sdkDir, 'hello.mjs'), snippet.replaceAll('localhost:3001', `127.0.0.1:${port}`));

    const steps = walkthroughSteps(readme(), 'gateway');
    const records = steps.at(-1)!;
    expect(records.command).toContain('/api/usage/records');
    // A gateway call is settled just after its answer's last byte: the records are read once the
    // calls made so far are all there (a newcomer reads them seconds later).
    const prelude = [
      ...preludeFor(port),
      `source ${vars()}`,
      'CALLS=0',
      `curl() { local a=(); for x in "$@"; do a+=("\${x//localhost:3001/127.0.0.1:${port}}"); done
        if [[ "$*" == */v1/* ]]; then CALLS=$((CALLS + 1)); fi
        if [[ "$*" != */api/usage/records* ]]; then command curl "\${a[@]}"; return; fi
        local out; for _ in $(seq 100); do out=$(command curl "\${a[@]}")
          [ "$(jq '.items | length' <<<"$out")" -ge "$CALLS" ] && break; sleep 0.1; done; printf '%s' "$out"; }`,
    ];
    const { problems, outputs } = await runSteps(steps, prelude, workDir, [
      `(cd ${sdkDir} && KEY=$KEY node hello.mjs) && CALLS=$((CALLS + 2))`,
      `printf '\\n@@STEP ${steps.length}@@\\n'`,
      records.command,
    ]);
    expect(problems).toEqual([]);
    const charged = (text: string) =>
      (JSON.parse(text) as { modelId: string; tokens: number; credits: number }[]).map((r) => [r.modelId, r.credits]);
    const claude = catalogueCredits('anthropic', 'claude-sonnet-4-6', kinds);
    const gpt = catalogueCredits('openai', 'gpt-5.5', kinds);
    expect(claude).toBeGreaterThan(0);
    expect(charged(outputs[steps.length - 1])).toEqual([
      ['claude-sonnet-4-6', claude],
      ['gpt-5.5', gpt],
    ]);
    // The SDK snippet printed both answers and was charged the same.
    expect(outputs[steps.length]).toContain('Hello! How can I help?');
    expect(charged(outputs[steps.length + 1])).toEqual([
      ['claude-sonnet-4-6', claude],
      ['gpt-5.5', gpt],
      ['claude-sonnet-4-6', claude],
      ['gpt-5.5', gpt],
    ]);
  }, 300_000);
});

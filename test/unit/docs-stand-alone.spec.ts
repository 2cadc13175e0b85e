import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { root } from '../support/sources.js';

/**
 * The repository stands alone: docs/ is its reference. Code, tests and docs cite only files a newcomer
 * who clones it has (never a brief kept beside the repository, a sibling folder or a path of one
 * machine), every `docs/<name>.md#<anchor>` and `docs/<name>.md "<Heading>"` they cite exists, and the README stays
 * short enough to read (the rest goes to docs/). Tables and their owners: test/architecture-tables.int-spec.ts.
 */

const SCANNED = ['src', 'docs', 'test', 'console', 'clients', 'README.md'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage']);
const TEXT = /\.(ts|tsx|mts|mjs|js|json|md|sql|sh|html|css|yml|yaml)$/;

function filesUnder(rel: string): string[] {
  const abs = path.join(root, rel);
  if (!existsSync(abs)) return [];
  if (
    !readdirSync(path.dirname(abs), { withFileTypes: true })
      .find((e) => e.name === path.basename(abs))
      ?.isDirectory()
  )
    return TEXT.test(rel) ? [rel] : [];
  return readdirSync(abs, { withFileTypes: true }).flatMap((entry) =>
    SKIPPED_DIRS.has(entry.name) ? [] : filesUnder(path.join(rel, entry.name)),
  );
}

const files = SCANNED.flatMap(filesUnder).filter((file) => !file.startsWith(path.join('clients', 'typescript', 'src')));
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

/**
 * A landed migration is history: it keeps the words it was written with, whatever they cite, because a
 * database migrated before an edit and one migrated after would differ (test/unit/landed-migrations.spec.ts).
 */
const LANDED_MIGRATION = /^migrations\/\d+-[^/]+\.ts$/;

/** Every file git tracks, less lockfiles, landed migrations and what is not text. */
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file && !/(^|\/)(package-lock\.json|node_modules\/.*)$/.test(file))
  .filter((file) => !LANDED_MIGRATION.test(file))
  .filter((file) => existsSync(path.join(root, file)))
  .filter((file) => !/\.(png|jpe?g|gif|ico|pdf|woff2?|ttf|gz|zip)$/i.test(file));

/**
 * What points outside the repository: the brief the service was first built from (by its name, or as
 * "the contr[a]ct"), a sibling `shar[e]d/` folder, and absolute paths of a developer's machine. Each
 * pattern holds a bracket (`[A]`) so that this file does not match itself.
 */
const OUTSIDE: Array<[string, RegExp]> = [
  ['the brief', /\bCONTR[A]CT\b/],
  ['the brief', /\bthe (service |HTTP )?contr[a]ct('s)?\b(?! change)/i],
  ['a sibling folder', /\.\.\/+shar[e]d\b/],
  ['a path of one machine', /(^|[\s'"`(])\/(wor[k]|hom[e]|User[s])\/[A-Za-z0-9_.-]/],
];

describe('references outside the repository', () => {
  it('scans the places a reader looks', () => {
    for (const dir of ['src/', 'docs/', 'test/', 'console/', 'clients/'])
      expect(files.some((f) => f.startsWith(dir))).toBe(true);
    expect(files).toContain('README.md');
    expect(tracked).toContain('migrations/index.ts');
    expect(tracked.filter((f) => f.startsWith('migrations/1'))).toEqual([]);
  });

  it('catches each kind of outside reference', () => {
    const caught = (line: string) => OUTSIDE.filter(([, pattern]) => pattern.test(line)).map(([kind]) => kind);
    const [brief, contract, shared, work] = ['CONTR', 'the contr', '../shar', '/wor'];
    expect(caught(`/** The purchase view (${brief}ACT "Buying credits"). */`)).toEqual(['the brief']);
    expect(caught(`exactly as ${contract}act lists them`)).toEqual(['the brief']);
    expect(caught(`see ${shared}ed/STYLE.md`)).toEqual(['a sibling folder']);
    expect(caught(`cat ${work}k/wt/x/README.md`)).toEqual(['a path of one machine']);
    expect(caught("fallbackDataDir('/root/app/data/postgres')")).toEqual([]);
    expect(caught('a contract change that breaks the kit fails its build')).toEqual([]);
    expect(caught('expand, then contract')).toEqual([]);
  });

  it('finds none in any file git tracks', () => {
    const found = tracked.flatMap((file) =>
      read(file)
        .split('\n')
        .flatMap((text, i) =>
          OUTSIDE.filter(([, pattern]) => pattern.test(text)).map(
            ([kind]) => `${file}:${i + 1} (${kind}): ${text.trim()}`,
          ),
        ),
    );
    expect(found).toEqual([]);
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
export function anchorsOf(markdown: string): { anchors: Set<string>; headings: Set<string> } {
  const anchors = new Set<string>();
  const headings = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    headings.add(heading[1]);
    const base = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return { anchors, headings };
}

interface Citation {
  from: string;
  doc: string;
  anchor?: string;
  heading?: string;
}

/**
 * The citations of a file: markdown links to a `.md` file (relative to the citing file) with or
 * without an anchor, `docs/<name>.md#<anchor>` anywhere, and `docs/<name>.md "<Heading>"` (or with a comma),
 * the heading possibly wrapped onto a comment's next line.
 */
export function citationsOf(file: string, text: string): Citation[] {
  const citations: Citation[] = [];
  const dir = path.dirname(file);
  if (file.endsWith('.md'))
    for (const m of text.matchAll(/\]\(([A-Za-z0-9_./-]*\.md)?(?:#([^)\s]+))?\)/g)) {
      if (!m[1] && !m[2]) continue;
      citations.push({ from: file, doc: m[1] ? path.normalize(path.join(dir, m[1])) : file, anchor: m[2] });
    }
  for (const m of text.matchAll(/(?<![\w./])docs\/([a-z0-9-]+\.md)(?:#([A-Za-z0-9_-]+))?/g))
    citations.push({ from: file, doc: `docs/${m[1]}`, anchor: m[2] });
  for (const m of text.matchAll(
    /(?<![\w./])docs\/([a-z0-9-]+\.md),?(?:[ \t]+|[ \t]*\n\s*(?:\*|\/\/|--|#)?\s*)["“]([^"”]{1,100})["”]/g,
  )) {
    const heading = m[2].replace(/\s*\n\s*(?:\*|\/\/|--|#)?\s*/g, ' ').trim();
    citations.push({ from: file, doc: `docs/${m[1]}`, heading });
  }
  return citations;
}

describe('citations of the docs', () => {
  it('reads anchors and citations as GitHub and a reader would', () => {
    const { anchors, headings } = anchorsOf(
      '# Money: how credits move\n## The ledger (`credit_ledger`)\n```bash\n# → not a heading\n```\n## FIFO\n## FIFO\n',
    );
    expect([...anchors]).toEqual(['money-how-credits-move', 'the-ledger-credit_ledger', 'fifo', 'fifo-1']);
    expect(headings.has('The ledger (`credit_ledger`)')).toBe(true);
    expect(citationsOf('src/a.ts', ' * docs/money.md\n * "FIFO"')).toEqual([
      { from: 'src/a.ts', doc: 'docs/money.md', anchor: undefined },
      { from: 'src/a.ts', doc: 'docs/money.md', heading: 'FIFO' },
    ]);
    expect(citationsOf('src/a.ts', '// see docs/money.md "One\n  // decision" and docs/money.md#fifo')).toEqual([
      { from: 'src/a.ts', doc: 'docs/money.md', anchor: undefined },
      { from: 'src/a.ts', doc: 'docs/money.md', anchor: 'fifo' },
      { from: 'src/a.ts', doc: 'docs/money.md', heading: 'One decision' },
    ]);
    expect(citationsOf('docs/a.md', 'see [x](money.md#fifo) and [y](#top)')).toEqual([
      { from: 'docs/a.md', doc: 'docs/money.md', anchor: 'fifo' },
      { from: 'docs/a.md', doc: 'docs/a.md', anchor: 'top' },
    ]);
  });

  it('every cited doc, anchor and heading exists', () => {
    const docs = new Map<string, ReturnType<typeof anchorsOf>>();
    const docOf = (doc: string) => {
      if (!docs.has(doc))
        docs.set(
          doc,
          existsSync(path.join(root, doc)) ? anchorsOf(read(doc)) : { anchors: new Set(), headings: new Set() },
        );
      return docs.get(doc)!;
    };
    // This file's own examples are not citations.
    const cited = files.filter((file) => file !== path.join('test', 'unit', 'docs-stand-alone.spec.ts'));
    const citations = cited.flatMap((file) => citationsOf(file, read(file)));
    expect(citations.length).toBeGreaterThan(100);
    const broken = citations
      .filter(({ doc, anchor, heading }) => {
        if (!existsSync(path.join(root, doc))) return true;
        if (anchor !== undefined && !docOf(doc).anchors.has(anchor)) return true;
        return heading !== undefined && !docOf(doc).headings.has(heading);
      })
      .map(
        ({ from, doc, anchor, heading }) =>
          `${from}: ${doc}${anchor ? `#${anchor}` : ''}${heading ? ` "${heading}"` : ''}`,
      );
    expect(broken).toEqual([]);
  });
});

/**
 * The repository describes the software as it is, not how it was built: no numbered development
 * round, no work session named by its ordinal or as "this" one, no ticket number and no numbered
 * version of the HTTP API (the patterns below, with the examples each must catch in the spec that
 * follows): a reader has only the repository, where none of those names anything. Product words stay free: portal and streaming sessions, `sessions:read`,
 * Math.round, rounding, round trips, a bench's measured rounds, UUID versions, `v1,` signatures.
 * Each pattern holds a bracket, and this file's own examples are left out of the scan.
 */
const ORDINAL =
  '(?:firs[t]|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|\\d+(?:st|nd|rd|th))';
const HISTORY: Array<[string, RegExp]> = [
  ['a development round', /\brou[n]d[-_ ]?\d/i],
  ['a development round', /\brou[n]ds \d+ and \d/i],
  ['a work session', new RegExp(`\\b${ORDINAL}[- ]sessio[n]`, 'i')],
  ['a work session', /\b(?:earlier|previous|later|next|past) sessio[n]s?\b/i],
  [
    'a work session',
    /\b(?:in|during|until|since|before|after|by|of) (?:this|that|the same|the next|an earlier|a later) sessio[n]\b/i,
  ],
  ['a work session', /\b(?:this|that) sessio[n]'s (?:machine|run|work|figures|change)/i],
  ['a work session', /\((?:this|that|same) sessio[n]\)/i],
  ['an issue number', /\bissu[e]s? #?\d/i],
  ['an API version', /\bv\d(?:\/v\d)+\b/],
  [
    'an API version',
    /\b(?:since|until|before|after|added in|in|by|from) (?:the )?(?:API |contract )?(?:versio[n] |v)\d\b(?! UUID)/i,
  ],
  ['an API version', /(?:^|\s)\((?:[Vv]ersio[n] \d\b(?! UUID)|v\d\b)[,:)](?! v\d)/],
  ['an API version', /^\s*(?:\/\/|\/?\*+|#+|--)?\s*(?:versio[n] |v)\d\b\s*[:,]/i],
  ['an API version', /(?:\(\)|'s) v\d\b/],
];

describe('the history of the work', () => {
  const caught = (line: string) => HISTORY.filter(([, pattern]) => pattern.test(line)).map(([kind]) => kind);

  it('catches each kind of history and lets product words through', () => {
    const [r, s, i] = ['roun', 'sessio', 'issu'];
    expect(caught(`as ${r}d 5 left it`)).toEqual(['a development round']);
    expect(caught(`the ${r}d-4 build (ea41367)`)).toEqual(['a development round']);
    expect(caught(`against ${r}ds 3 and 4`)).toEqual(['a development round']);
    expect(caught(`const ${r}d3 = byLabel(x);`)).toEqual(['a development round']);
    expect(caught(`on the eighth ${s}n's machine`)).toEqual(['a work session']);
    expect(caught(`### Third ${s}n: records that arrive together`)).toEqual(['a work session']);
    expect(caught(`Earlier ${s}ns estimated it`)).toEqual(['a work session']);
    expect(caught(`measured in this ${s}n`)).toEqual(['a work session']);
    expect(caught(`| change (this ${s}n) |`)).toEqual(['a work session']);
    expect(caught(`// ${i}e 36: a future iat was accepted`)).toEqual(['an issue number']);
    expect(caught(`fixed by ${i}e #9`)).toEqual(['an issue number']);
    expect(caught('keeps the v1/v2 behaviour')).toEqual(['an API version']);
    expect(caught('    // Version 3: the block is checked first')).toEqual(['an API version']);
    expect(caught('carry the void details since version 3 of the API')).toEqual(['an API version']);
    expect(caught('**Separation of duties** (v3, extended)')).toEqual(['an API version']);
    expect(caught("the take's v2 (then")).toEqual(['an API version']);
    for (const product of [
      'This session has ended or expired.',
      'at least this session is active',
      'the expiry job settles each session in its own transaction',
      "scopes: ['sessions:read']",
      'Math.round(TARGET * tpcbMean)',
      'one round trip; roundUp(credits); rounding half up',
      'each round of the bench measures every build',
      'a version 7 UUID (RFC 9562); a random (version 4 UUID) key',
      "expect(signature).toMatch(/^v1,/); baseURL: 'http://x/v1'",
      "modelId: 'anthropic.claude-3-haiku-20240307-v1:0'",
      "specificationVersion: 'v4'; `LanguageModelV4Middleware`; V2/V3 alike",
      "(v6, v4) => check(v4, 'ipv4'); expect(id).toMatch(V7)",
      'Events shaped as Stripe sends them (API version 2025-10-29.clover)',
    ])
      expect(caught(product), product).toEqual([]);
  });

  it('finds none in any file git tracks', () => {
    expect(tracked.length).toBeGreaterThan(500);
    expect(tracked).toContain('README.md');
    // This file's own examples are not history.
    const scanned = tracked.filter((file) => file !== 'test/unit/docs-stand-alone.spec.ts');
    const found = scanned.flatMap((file) => {
      const text = readFileSync(path.join(root, file), 'utf8');
      if (text.includes('\0')) return [];
      return text
        .split('\n')
        .flatMap((line, i) => caught(line).map((kind) => `${file}:${i + 1} (${kind}): ${line.trim().slice(0, 160)}`));
    });
    expect(found).toEqual([]);
  });
});

describe('the README', () => {
  it('is at most 250 lines (the rest belongs in docs/)', () => {
    expect(read('README.md').split('\n').length - 1).toBeLessThanOrEqual(250);
  });
});

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

  it('finds none in src, docs, test, console, clients and the README', () => {
    const found = files.flatMap((file) =>
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

describe('the README', () => {
  it('is at most 250 lines (the rest belongs in docs/)', () => {
    expect(read('README.md').split('\n').length - 1).toBeLessThanOrEqual(250);
  });
});

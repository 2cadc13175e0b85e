#!/usr/bin/env node
/**
 * What a new token kind would miss (docs/architecture.md "Token kinds: one list"): adds a kind
 * (`audio`) to TOKEN_KINDS in memory, type-checks the service (`src/`) and the console with it, and
 * prints every hand list of kinds the compiler does not then flag, one a line (`file:line: text`):
 * each is a place that would ignore the new kind without a compile error.
 *
 * A hand list is a literal naming two or more kinds, one of them at least beyond input and output
 * (an array, an object literal, a union, a sum, a column list in a TypeScript string, a table of
 * labels): one line, or consecutive lines, of `src/` or `console/src/` (specs and generated code
 * aside, `src/pricing/token-kinds.ts` itself aside). A kind is read in any spelling: its name
 * (`cacheRead`), field (`cacheReadTokens`), column (`estimated_cache_read_tokens`) or label
 * (`cache read`); a kind's price (`cacheReadPricePer1kTokens`, `cache_read_mtok`) is not its count
 * and is not read. Not counted: comments; prose (a string of four words or more: a description, a
 * summary); an example (a literal giving a kind a count or a price other than 0); and a hand list
 * the compiler flags once the kind is added (an error in the statement the list is part of): there
 * the new kind is asked for, not ignored. The functions of `sql/` folders are not TypeScript:
 * test/unit/token-kinds.spec.ts holds every one that names a kind's column to every kind's. The
 * console's copy of the list (`console/src/lib/token-kinds.ts`) is held to the service's by the same
 * spec, and to the API's by its own compiler.
 *
 *   node scripts/token-kinds-probe.mjs            every silent hand list, one a line
 *   node scripts/token-kinds-probe.mjs --all      every hand list, flagged or not (no compiler run)
 *   node scripts/token-kinds-probe.mjs --flagged  the lines the compiler flags once the kind is added
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const LIST = 'src/pricing/token-kinds.ts';
const NEW_KIND = 'audio';
/** Copies of the list another test holds to TOKEN_KINDS (test/unit/token-kinds.spec.ts). */
const HELD = new Set(['console/src/lib/token-kinds.ts']);

const listText = readFileSync(path.join(root, LIST), 'utf8');
const kinds = JSON.parse(
  /export const TOKEN_KINDS = (\[[^\]]*\]) as const/
    .exec(listText)[1]
    .replace(/'/g, '"')
    .replace(/,\s*\]/, ']'),
);
/** `cacheRead` → /(?<![a-z])cache[_ -]?read/gi: the kind in every spelling, not inside a longer word. */
const spelling = (kind) =>
  new RegExp(
    `(?<![a-z])${kind
      .split(/(?=[A-Z])/)
      .map((p) => p.toLowerCase())
      .join('[_ -]?')}`,
    'gi',
  );
const patterns = kinds.map((kind) => ({ kind, re: spelling(kind) }));
const plain = new Set(['input', 'output']);
/** What follows a kind's name when it is the kind's price, not its count. */
const PRICE = /^(PricePer1k|_price_per_1k|CostPer1k|_cost_per_1k|_mtok|_1h_mtok)/i;
/** A kind given a count or a price other than 0: one call's figures, an example. */
const EXAMPLE = /\b\w+:\s*'?(?:[1-9][\d_]*|0\.\d*[1-9]\d*)'?/;

function files(dir) {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : files(rel);
    return /\.tsx?$/.test(e.name) && !/\.spec\.tsx?$/.test(e.name) ? [rel] : [];
  });
}

/** The kinds a line names as code: comments and prose aside. */
function named(line) {
  const code = line
    .replace(/^\s*(\/\/|\*|\/\*\*).*$/, '')
    .replace(/(['`])((?:(?!\1).)*)\1/g, (s, q, body) => (body.trim().split(/\s+/).length >= 4 ? '""' : s));
  return patterns
    .filter(({ re }) =>
      [...code.matchAll(re)].some((m) => !PRICE.test(code.slice(m.index + m[0].length).replace(/^Tokens/, ''))),
    )
    .map(({ kind }) => kind);
}

/** Runs of consecutive lines naming kinds, kept when they name two kinds, one beyond input and output, and are no example. */
function handLists(file) {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  const out = [];
  let run = null;
  const close = () => {
    if (run && !run.example && run.kinds.size >= 2 && [...run.kinds].some((k) => !plain.has(k))) out.push(run);
    run = null;
  };
  lines.forEach((text, i) => {
    const found = named(text);
    if (found.length === 0) return close();
    run ??= { file, from: i + 1, to: i + 1, text: text.trim(), kinds: new Set(), example: false };
    run.to = i + 1;
    run.example ||= EXAMPLE.test(text);
    found.forEach((k) => run.kinds.add(k));
  });
  close();
  return out;
}

/** Every hand list of the service and the console. */
const lists = () =>
  [...files('src'), ...files('console/src')].filter((f) => f !== LIST && !HELD.has(f)).flatMap(handLists);

/** A program of `project`'s files under `under`, with the new kind in the list: its errors (`file:line`) and sources. */
function compiled(project, under) {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(root, project),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  const host = ts.createCompilerHost(config.options);
  const listPath = path.join(root, LIST);
  const read = host.readFile.bind(host);
  host.readFile = (name) =>
    path.resolve(name) === listPath
      ? listText.replace(/(export const TOKEN_KINDS = \[[^\]]*?)(,?\s*\] as const)/, `$1, '${NEW_KIND}'$2`)
      : read(name);
  const roots = config.fileNames.filter((f) => path.relative(root, f).startsWith(under));
  const program = ts.createProgram(roots, config.options, host);
  const errors = new Set();
  for (const d of [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()]) {
    if (!d.file || d.start === undefined) continue;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    errors.add(`${path.relative(root, d.file.fileName)}:${line + 1}`);
  }
  return { errors, source: (file) => program.getSourceFile(path.join(root, file)) };
}

const OUTER = new Set([
  ts.SyntaxKind.SourceFile,
  ts.SyntaxKind.Block,
  ts.SyntaxKind.ModuleBlock,
  ts.SyntaxKind.CaseClause,
]);

/** The first line of the statement, member or declaration that line `line` of `source` is part of. */
function statementStart(source, line) {
  if (!source) return line;
  let pos = source.getPositionOfLineAndCharacter(line - 1, 0);
  while (pos < source.text.length && /\s/.test(source.text[pos])) pos++;
  let node = source;
  for (let deeper = true; deeper;) {
    deeper = false;
    node.forEachChild((child) => {
      if (!deeper && child.getStart(source) <= pos && pos < child.getEnd()) {
        node = child;
        deeper = true;
      }
    });
  }
  const top = (n) =>
    !n.parent || OUTER.has(n.parent.kind) || ts.isClassLike(n.parent) || ts.isInterfaceDeclaration(n.parent);
  while (!top(node)) node = node.parent;
  // What a function returns is checked against its type where the function is written.
  if (ts.isReturnStatement(node)) while (node.parent && !ts.isFunctionLike(node)) node = node.parent;
  return source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
}

if (process.argv.includes('--all')) {
  for (const list of lists()) console.log(`${list.file}:${list.from}: ${list.text.slice(0, 120)}`);
} else {
  const service = compiled('tsconfig.json', 'src/');
  const app = compiled('console/tsconfig.json', 'console/src/');
  const flagged = new Set([...service.errors, ...app.errors]);
  if (process.argv.includes('--flagged')) {
    for (const at of [...flagged].sort()) console.log(at);
  } else {
    for (const list of lists()) {
      const source = (list.file.startsWith('console/') ? app : service).source(list.file);
      const from = Math.min(list.from - 1, statementStart(source, list.from));
      const lines = Array.from({ length: list.to - from + 1 }, (_, i) => `${list.file}:${from + i}`);
      if (!lines.some((at) => flagged.has(at))) console.log(`${list.file}:${list.from}: ${list.text.slice(0, 120)}`);
    }
  }
}

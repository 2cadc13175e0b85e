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
 * Only a file that holds a hand list and imports the list (directly or through other files) can have a
 * hand list flagged, so only those are type-checked (`getSemanticDiagnostics` per file, one program per
 * project, its other files parsed and never checked; they compile clean, `npm run typecheck`): a few
 * files of `src/pricing/`, and none of the console, whose files never import the service's list. About
 * 8 s of CPU (user+sys, `/usr/bin/time -v`, beside other work) where checking both whole programs took
 * 46 s; most of what is left is parsing the declarations those files import (`@types/node`, TypeORM,
 * NestJS). `--flagged` still checks both whole programs.
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

/** `project`'s compiler options and files. */
function configOf(project) {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(root, project),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  return { options: { ...config.options, noEmit: true }, fileNames: config.fileNames };
}

/**
 * Which of `project`'s files import the list, directly or through one another: only they can see the new
 * kind. A scan of each file's imports (`ts.preProcessFile`), each resolved as the compiler resolves it; a
 * package's import is not followed, as no package imports the repository's files.
 */
function seeingTheList({ options, fileNames }) {
  const importers = new Map();
  for (const file of fileNames) {
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = ts.resolveModuleName(fileName, file, options, ts.sys).resolvedModule?.resolvedFileName;
      if (target) importers.set(path.resolve(target), [...(importers.get(path.resolve(target)) ?? []), file]);
    }
  }
  const seeing = new Set([path.join(root, LIST)]);
  for (const file of seeing) for (const by of importers.get(file) ?? []) seeing.add(path.resolve(by));
  return new Set([...seeing].map((f) => path.relative(root, f)));
}

/**
 * `project`'s program with the new kind in the list, and the errors (`file:line`) of `files` (every file of
 * the project under `under` unless told). A file's errors are its own: checking one reads what it imports
 * lazily, and the rest of the program is parsed, never checked (it compiles clean: `npm run typecheck`).
 * `source(file)`: a file's syntax tree, parsed alone when no program was needed.
 */
function compiled(config, under, files) {
  const roots = files
    ? files.map((f) => path.join(root, f))
    : config.fileNames.filter((f) => path.relative(root, f).startsWith(under));
  const errors = new Set();
  const alone = (file) =>
    ts.createSourceFile(file, readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  if (roots.length === 0) return { errors, source: alone };
  const host = ts.createCompilerHost(config.options);
  const listPath = path.join(root, LIST);
  const read = host.readFile.bind(host);
  host.readFile = (name) =>
    path.resolve(name) === listPath
      ? listText.replace(/(export const TOKEN_KINDS = \[[^\]]*?)(,?\s*\] as const)/, `$1, '${NEW_KIND}'$2`)
      : read(name);
  const program = ts.createProgram(roots, config.options, host);
  for (const file of roots) {
    const source = program.getSourceFile(file);
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      if (!d.file || d.start === undefined) continue;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      errors.add(`${path.relative(root, d.file.fileName)}:${line + 1}`);
    }
  }
  return { errors, source: (file) => program.getSourceFile(path.join(root, file)) ?? alone(file) };
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
  const service = configOf('tsconfig.json');
  const app = configOf('console/tsconfig.json');
  if (process.argv.includes('--flagged')) {
    const flagged = [compiled(service, 'src/'), compiled(app, 'console/src/')].flatMap((p) => [...p.errors]);
    for (const at of flagged.sort()) console.log(at);
  } else {
    // Only a hand list's file that sees the list can flag it: those files alone are checked.
    const found = lists();
    const checked = (config) => {
      const seeing = seeingTheList(config);
      return [...new Set(found.map((l) => l.file))].filter((f) => seeing.has(f));
    };
    const programs = {
      service: compiled(service, 'src/', checked(service)),
      app: compiled(app, 'console/src/', checked(app)),
    };
    const flagged = new Set([...programs.service.errors, ...programs.app.errors]);
    for (const list of found) {
      const source = programs[list.file.startsWith('console/') ? 'app' : 'service'].source(list.file);
      const from = Math.min(list.from - 1, statementStart(source, list.from));
      const lines = Array.from({ length: list.to - from + 1 }, (_, i) => `${list.file}:${from + i}`);
      if (!lines.some((at) => flagged.has(at))) console.log(`${list.file}:${list.from}: ${list.text.slice(0, 120)}`);
    }
  }
}

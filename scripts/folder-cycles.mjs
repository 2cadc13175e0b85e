#!/usr/bin/env node
// npm run cycles: the import cycles between the folders of src/ (src/credits, src/usage…; the files
// directly in src/ are the composition root, "(root)"), each with the imports that make it, the
// cycles between its files (two files of one folder that import each other count too), then the SQL
// references (a table or function of another folder named in SQL: scripts/sql-references.mjs) that
// point back up the imports, each closing a cycle through SQL. test/unit/structure.spec.ts fails on
// an import cycle and on a SQL reference back up that it does not list; this prints them.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { sqlGraph } from './sql-references.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every TypeScript file below `dir` (relative to `root`), specs left out: they import what they test. */
function sourceFiles(root, dir) {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(root, rel);
    return /\.tsx?$/.test(entry.name) && !/\.spec\.tsx?$/.test(entry.name) ? [rel] : [];
  });
}

/** The folder of `src/` a file belongs to (`credits` for src/credits/dto/x.ts); outside src/, its top folder. */
export function folderOf(file) {
  const parts = file.split('/');
  if (parts[0] !== 'src') return parts[0];
  return parts.length > 2 ? parts[1] : '(root)';
}

// `import … from './x.js'`, `import type …`, `export … from`, `import './x.js'`: a type-only import
// is a dependency too (the reader of one folder must read the other).
const IMPORT = /^\s*(?:import|export)\b[^'";]*?(?:from\s*)?['"](\.{1,2}\/[^'"]+)['"]/gm;

/**
 * The imports between folders of src/: `edges` maps `from -> to` to the file-level imports behind
 * it (`src/a/x.ts -> src/b/y.ts`).
 */
export function folderGraph(root = ROOT) {
  const edges = new Map();
  for (const file of sourceFiles(root, 'src')) {
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1])).replace(/\.js$/, '.ts');
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      if (!edges.has(key)) edges.set(key, []);
      edges.get(key).push(`${file} -> ${target}`);
    }
  }
  return edges;
}

/**
 * The imports between the files of src/ (specs aside): `edges` maps `src/a/x.ts -> src/a/y.ts` to
 * itself, so folderCycles() reads it as it reads the folders' graph and finds the files that import
 * each other, in one folder or across folders.
 */
export function fileGraph(root = ROOT) {
  const edges = new Map();
  for (const file of sourceFiles(root, 'src')) {
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1])).replace(/\.js$/, '.ts');
      const key = `${file} -> ${target}`;
      if (!edges.has(key)) edges.set(key, [key]);
    }
  }
  return edges;
}

/**
 * The folders that import each other, directly or round a longer path (the strongly connected
 * components of the graph, Tarjan's algorithm), each with the edges inside it; `ignore` lists edges
 * (`credits -> plans`) to leave out. Sorted, so the answer is stable.
 */
export function folderCycles(edges, ignore = []) {
  const next = new Map();
  for (const key of edges.keys()) {
    if (ignore.includes(key)) continue;
    const [from, to] = key.split(' -> ');
    if (!next.has(from)) next.set(from, []);
    next.get(from).push(to);
  }
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) components.push(component.sort());
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return components
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map((folders) => ({
      folders,
      edges: [...edges.keys()]
        .filter((key) => !ignore.includes(key) && key.split(' -> ').every((f) => folders.includes(f)))
        .sort()
        .map((key) => ({ edge: key, imports: edges.get(key) })),
    }));
}

/**
 * The SQL references that point back up the import graph: `from -> to` where `to` imports its way to
 * `from`. Each closes a cycle that imports alone do not show.
 */
export function sqlBackEdges(root = ROOT) {
  const imports = folderGraph(root);
  const next = new Map();
  for (const key of imports.keys()) {
    const [from, to] = key.split(' -> ');
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  const reaches = (from, to) => {
    const seen = new Set([from]);
    const stack = [from];
    while (stack.length > 0) {
      const v = stack.pop();
      if (v === to) return true;
      for (const w of next.get(v) ?? []) if (!seen.has(w) && seen.add(w)) stack.push(w);
    }
    return false;
  };
  return [...sqlGraph(root)]
    .filter(([key]) => reaches(key.split(' -> ')[1], key.split(' -> ')[0]))
    .map(([edge, references]) => ({ edge, references }))
    .sort((a, b) => a.edge.localeCompare(b.edge));
}

function printCycles(cycles, what) {
  if (cycles.length === 0) console.log(`No cycle of ${what} between the folders of src/.`);
  for (const { folders, edges } of cycles) {
    console.log(`A cycle of ${what}, ${folders.length} folders: ${folders.join(', ')}`);
    for (const { edge, imports } of edges) {
      console.log(`  ${edge}`);
      for (const line of imports) console.log(`      ${line}`);
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cycles = folderCycles(folderGraph());
  printCycles(cycles, 'imports');
  const files = folderCycles(fileGraph());
  if (files.length === 0) console.log('No cycle of imports between the files of src/.');
  for (const { folders, edges } of files) {
    console.log(`A cycle of imports, ${folders.length} files: ${folders.join(', ')}`);
    for (const { edge } of edges) console.log(`  ${edge}`);
  }
  const back = sqlBackEdges();
  if (back.length === 0) console.log('No SQL reference points back up the imports.');
  for (const { edge, references } of back) {
    console.log(`SQL reference back up the imports: ${edge}`);
    for (const line of references) console.log(`      ${line}`);
  }
  process.exitCode = cycles.length === 0 && files.length === 0 && back.length === 0 ? 0 : 1;
}

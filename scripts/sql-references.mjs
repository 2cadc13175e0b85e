// The references between folders of src/ that imports do not show: SQL. A table belongs to the folder
// whose entity names it (`@Entity({ name: 'credit_ledger' })` in src/engine/entities/…), a function to the folder
// whose sql/ holds its file (src/engine/sql/credits_grant.sql). Every SQL text of a folder (its sql/
// files, the template literals of its TypeScript, and the snapshots of the statements it composes,
// queries/<folder>/*.sql at the root) that reads or writes another folder's table or calls its function
// is an edge `from -> to`, as an import is; npm run cycles adds these edges to the import graph, so a
// cycle through SQL is found as one through imports is.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Every file below `dir` (relative to `root`) whose name passes `keep`. */
function filesUnder(root, dir, keep) {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(root, rel, keep);
    return keep(entry.name) ? [rel] : [];
  });
}

const folderOf = (file) => file.split('/')[1];
const ENTITY = /@Entity\(\s*(?:\{[^}]*?name:\s*)?['"]([a-z_][a-z0-9_]*)['"]/g;
// A table is named after FROM, JOIN, INTO, UPDATE, TABLE, REFERENCES or a `%ROWTYPE`.
const TABLE_REF =
  /\b(?:from|join|into|update|table|references)\s+(?:only\s+)?(?:public\.)?([a-z_][a-z0-9_]*)|\b([a-z_][a-z0-9_]*)%rowtype/gi;
const CALL = /\b([a-z_][a-z0-9_]*)\s*\(/gi;
const TEMPLATE = /`([^`]*)`/g;

/** What each folder owns: its tables (by entity) and its functions (by sql/ file). */
export function sqlOwners(root) {
  const tables = new Map();
  const functions = new Map();
  for (const file of filesUnder(root, 'src', (name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'))) {
    for (const match of readFileSync(path.join(root, file), 'utf8').matchAll(ENTITY)) {
      tables.set(match[1], folderOf(file));
    }
  }
  for (const file of filesUnder(root, 'src', (name) => name.endsWith('.sql'))) {
    if (file.split('/')[2] === 'sql') functions.set(path.posix.basename(file, '.sql'), folderOf(file));
  }
  return { tables, functions };
}

/**
 * The SQL texts of each folder of src/: each sql/ file whole, each TypeScript template literal, and
 * each snapshot of queries/<folder>/ whole (`folderOf()` reads the folder from either path).
 */
function sqlTexts(root) {
  const texts = [];
  for (const file of filesUnder(root, 'src', (name) => /\.(sql|tsx?)$/.test(name) && !/\.spec\.tsx?$/.test(name))) {
    if (file.split('/').length < 3) continue;
    const text = readFileSync(path.join(root, file), 'utf8');
    if (file.endsWith('.sql')) texts.push({ file, sql: text });
    else for (const match of text.matchAll(TEMPLATE)) texts.push({ file, sql: match[1] });
  }
  for (const file of filesUnder(root, 'queries', (name) => name.endsWith('.sql'))) {
    texts.push({ file, sql: readFileSync(path.join(root, file), 'utf8') });
  }
  // Comments name other folders' tables in prose; they are not references.
  return texts.map(({ file, sql }) => ({ file, sql: sql.replace(/--[^\n]*/g, '') }));
}

/**
 * The SQL references between folders of src/: `edges` maps `from -> to` to the references behind it
 * (`src/engine/sql/credits_take.sql -> org_members`), as folderGraph() maps imports.
 */
export function sqlGraph(root) {
  const { tables, functions } = sqlOwners(root);
  const edges = new Map();
  const add = (file, name, owner) => {
    const from = folderOf(file);
    if (!owner || owner === from) return;
    const key = `${from} -> ${owner}`;
    if (!edges.has(key)) edges.set(key, []);
    const line = `${file} -> ${name}`;
    if (!edges.get(key).includes(line)) edges.get(key).push(line);
  };
  for (const { file, sql } of sqlTexts(root)) {
    for (const match of sql.matchAll(TABLE_REF)) {
      const name = (match[1] ?? match[2]).toLowerCase();
      add(file, name, tables.get(name));
    }
    for (const match of sql.matchAll(CALL)) {
      const name = match[1].toLowerCase();
      add(file, `${name}()`, functions.get(name));
    }
  }
  return edges;
}

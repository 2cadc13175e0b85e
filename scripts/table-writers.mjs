#!/usr/bin/env node
// The tables of src/ written by a folder that does not own them. A table belongs to the folder whose
// entity names it (scripts/sql-references.mjs; docs/architecture.md "Who owns each table" is held to
// the same by test/architecture-tables.int-spec.ts). A write is an INSERT INTO, UPDATE or DELETE FROM
// in a folder's SQL (its sql/ files, its TypeScript's template literals), or a TypeORM
// write naming the entity (`manager.insert(Plan, …)`, `getRepository(Plan).update(…)`,
// `.into(Plan)`, a `save`/`update`/… on a repository injected with `@InjectRepository(Plan)`).
// Prints one line per folder and table it writes without owning it, with the files; nothing when
// each table is written by its owner only. Not read: the snapshots of queries/ at the root
// (docs/architecture.md "Statements you can read"), which show a composed statement whole under the
// module composing it; each part's write is counted in the TypeScript of the module that supplies it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { sqlOwners } from './sql-references.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function filesUnder(root, dir, keep) {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(root, rel, keep);
    return keep(entry.name) ? [rel] : [];
  });
}

const folderOf = (file) => file.split('/')[1];
const SQL_WRITE = /\b(?:insert\s+into|update|delete\s+from)\s+(?:only\s+)?(?:public\.)?([a-z_][a-z0-9_]*)/gi;
const TEMPLATE = /`([^`]*)`/g;
const ENTITY_CLASS = /@Entity\(\s*(?:\{[^}]*?name:\s*)?['"]([a-z_][a-z0-9_]*)['"][\s\S]*?\bclass\s+(\w+)/g;
const ORM_WRITE = /\b(?:insert|update|upsert|delete|save|remove|softDelete|increment|decrement)\(\s*(\w+)\s*,/g;
const REPO_WRITE =
  /getRepository\(\s*(\w+)\s*\)\s*\.(?:insert|update|upsert|delete|save|remove|softDelete|increment|decrement)\(/g;
const INTO = /\.into\(\s*(\w+)\s*\)/g;
const INJECTED = /@InjectRepository\(\s*(\w+)\s*\)\s*(?:private\s+|protected\s+|public\s+)?(?:readonly\s+)?(\w+)/g;

/** Maps each entity class to its table (`Plan` → `plans`). */
function entityTables(root) {
  const tables = new Map();
  for (const file of filesUnder(root, 'src', (name) => name.endsWith('.entity.ts'))) {
    for (const match of readFileSync(path.join(root, file), 'utf8').matchAll(ENTITY_CLASS)) {
      tables.set(match[2], match[1]);
    }
  }
  return tables;
}

/** `writer -> table` mapped to the files of the writer that write the table, for non-owners only. */
export function foreignWrites(root = ROOT) {
  const { tables: owners } = sqlOwners(root);
  const classes = entityTables(root);
  const writes = new Map();
  const add = (file, table) => {
    const owner = owners.get(table);
    const writer = folderOf(file);
    if (!owner || owner === writer) return;
    const key = `${writer} writes ${table} (${owner})`;
    if (!writes.has(key)) writes.set(key, new Set());
    writes.get(key).add(file);
  };
  for (const file of filesUnder(root, 'src', (name) => /\.(sql|ts)$/.test(name) && !name.endsWith('.spec.ts'))) {
    if (file.split('/').length < 3) continue;
    const text = readFileSync(path.join(root, file), 'utf8');
    const sqls = file.endsWith('.sql') ? [text] : [...text.matchAll(TEMPLATE)].map((m) => m[1]);
    for (const sql of sqls) {
      for (const match of sql.replace(/--[^\n]*/g, '').matchAll(SQL_WRITE)) add(file, match[1].toLowerCase());
    }
    if (file.endsWith('.sql')) continue;
    const code = text.replace(TEMPLATE, '``');
    for (const pattern of [ORM_WRITE, REPO_WRITE, INTO]) {
      for (const match of code.matchAll(pattern)) if (classes.has(match[1])) add(file, classes.get(match[1]));
    }
    for (const [, entity, field] of code.matchAll(INJECTED)) {
      const written = new RegExp(
        `this\\.${field}\\s*\\.(?:insert|update|upsert|delete|save|remove|softDelete|increment|decrement)\\(`,
      );
      if (classes.has(entity) && written.test(code)) add(file, classes.get(entity));
    }
  }
  return writes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [key, files] of [...foreignWrites()].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${key}: ${[...files].sort().join(', ')}`);
  }
}

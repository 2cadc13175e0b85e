import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type pg from 'pg';

/**
 * The money engine's source of truth (docs/configuration.md "SQL functions"): every live function and
 * trigger function has a file `src/<module>/sql/<name>.sql` holding its `CREATE OR REPLACE FUNCTION`
 * text as `pg_get_functiondef()` prints it. A test compares the files with the migrated database;
 * `npm run migration:functions` turns edited files into a migration.
 */
export interface FunctionFile {
  name: string;
  /** Path relative to the repository root, e.g. `src/usage/sql/usage_events_claim.sql`. */
  file: string;
  text: string;
}

export interface LiveFunction {
  name: string;
  /** `name(arg types…)`: what DROP FUNCTION needs. */
  identity: string;
  definition: string;
}

/** The functions of the public schema that no extension owns, each with its full definition. */
export const LIVE_FUNCTIONS_SQL = `
SELECT p.proname AS name,
       format('%I(%s)', p.proname, pg_get_function_identity_arguments(p.oid)) AS identity,
       pg_get_functiondef(p.oid) AS definition
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND p.prokind = 'f'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
 ORDER BY p.proname, identity`;

export async function liveFunctions(client: Pick<pg.Client, 'query'>): Promise<LiveFunction[]> {
  const { rows } = await client.query<LiveFunction>(LIVE_FUNCTIONS_SQL);
  return rows;
}

/** Every `src/<module>/sql/*.sql` file under `root`, by function name. */
export function functionFiles(root: string): FunctionFile[] {
  const src = path.join(root, 'src');
  const files: FunctionFile[] = [];
  for (const module of readdirSync(src, { withFileTypes: true })) {
    if (!module.isDirectory()) continue;
    let entries: string[];
    try {
      entries = readdirSync(path.join(src, module.name, 'sql'));
    } catch {
      continue;
    }
    for (const entry of entries.filter((e) => e.endsWith('.sql')).sort()) {
      const file = path.join('src', module.name, 'sql', entry);
      files.push({ name: entry.slice(0, -'.sql'.length), file, text: readFileSync(path.join(root, file), 'utf8') });
    }
  }
  return files;
}

/**
 * The text compared between a file and the database: runs of white space folded to one space, and
 * no trailing semicolon (a file ends its statement with one; pg_get_functiondef does not).
 */
export function normaliseFunctionText(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/;$/, '').trim();
}

/** The function a file creates, read from its header (`CREATE OR REPLACE FUNCTION public.name(`). */
export function declaredName(text: string): string | null {
  const match = /CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(?:public\.)?"?([a-z_][a-z0-9_]*)"?\s*\(/i.exec(text);
  return match ? match[1].toLowerCase() : null;
}

/**
 * What CREATE OR REPLACE cannot change: the name, the parameters (names included) and the result
 * type, the header up to LANGUAGE. When it differs, the migration drops the old function first.
 */
export function signature(definition: string): string {
  const text = normaliseFunctionText(definition);
  const end = text.search(/ LANGUAGE /);
  return end < 0 ? text : text.slice(0, end);
}

/** The longest line of a function's file (docs/architecture.md "How the structure is counted"). */
export const LONGEST_SQL_LINE = 160;

/**
 * A header line (pg_get_functiondef() prints the parameters and the result on one line each) broken
 * after its commas outside quotes, each line at most LONGEST_SQL_LINE characters; white space is what
 * the comparison folds, so the file still matches the database.
 */
function wrapHeaderLine(line: string): string[] {
  if (line.length <= LONGEST_SQL_LINE) return [line];
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "'") quoted = !quoted;
    if (!quoted && line[i] === ',' && line[i + 1] === ' ') {
      parts.push(line.slice(start, i + 1));
      start = i + 2;
    }
  }
  parts.push(line.slice(start));
  const lines: string[] = [];
  for (const part of parts) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + part.length <= LONGEST_SQL_LINE) lines[last] += ` ${part}`;
    else lines.push(last < 0 ? part : `    ${part}`);
  }
  return lines;
}

/**
 * A file's text as it is written: the definition with its header's long lines broken (the body is
 * kept as written), its statement's semicolon, a final newline.
 */
export function fileText(definition: string): string {
  const lines = definition.trimEnd().split('\n');
  const body = lines.findIndex((line) => line.startsWith('AS '));
  const head = body < 0 ? lines : lines.slice(0, body);
  return `${[...head.flatMap(wrapHeaderLine), ...(body < 0 ? [] : lines.slice(body))].join('\n')};\n`;
}

import { createHash } from 'node:crypto';

import type { EntityManager } from 'typeorm';

/**
 * Statements built from several modules' parts (docs/architecture.md "One statement, several
 * modules"): the credits module's movement and, in the same statement, the rows other modules write
 * with it. Each part is SQL with its own `$1…$n`; a part becomes a CTE under a name the module that
 * composes the statement documents, and later parts read it by that name. Each module's part writes
 * only that module's tables.
 */

/** A piece of SQL with its own `$1…$n` placeholders, to be placed into a larger statement. */
export interface SqlPart {
  sql: string;
  params: unknown[];
}

/**
 * A condition a statement of many items checks for each item (CoalescedHolds): the same text for every
 * item, over its own values (`fields`, read as the columns `columns` of the item's input row `i`) and
 * parameters shared by all (`params`, `$1…`), so items whose values differ still share a statement.
 */
export interface ItemCondition {
  sql: string;
  params: unknown[];
  /** Column definitions of `i` (`key_id uuid, key_models text[]`). */
  columns: string;
  /** The item's own values, by column. */
  fields: Record<string, unknown>;
}

/** A condition over its own parameters, and the same condition for a statement of many items. */
export interface Condition extends SqlPart {
  each: ItemCondition;
}

/** A part that becomes a CTE: `name AS [MATERIALIZED] (sql)`. */
export interface NamedPart extends SqlPart {
  name: string;
  /** Computed once, before anything reads it (a function call that locks or writes). */
  materialized?: boolean;
}

/** `sql` with its placeholders `$n` renumbered `$(n + by)`, to follow `by` parameters of another part. */
export function shiftParams(sql: string, by: number): string {
  return sql.replace(/\$(\d+)/g, (_m, n: string) => `$${Number(n) + by}`);
}

/**
 * `WITH <parts> <last>` as one statement: every part's placeholders renumbered to follow the
 * parameters of the parts before it, the parameters in that order.
 */
export function withParts(parts: NamedPart[], last: SqlPart): SqlPart {
  const params: unknown[] = [];
  const place = (part: SqlPart) => {
    const sql = shiftParams(part.sql, params.length);
    params.push(...part.params);
    return sql;
  };
  const ctes = parts.map((p) => `${p.name} AS ${p.materialized ? 'MATERIALIZED ' : ''}(${place(p)})`);
  return { sql: `WITH ${ctes.join(',\n')}\n${place(last)}`, params };
}

/**
 * Prepared names by label, then statement text: each text is hashed once per process. By both: two
 * senders of one text (the batch route and a record with an eventId) keep their own names, whichever
 * sends first. Two maps, not one keyed by label + text: a text is a few kilobytes, and a string made
 * of both at every call would be hashed again at every call.
 */
const names = new Map<string, Map<string, string>>();

/**
 * The name a statement is prepared under: its label and a hash of its text
 * (`usage_record_4a239bf9251a`). A changed text is a new name by itself, so two versions
 * of a statement never share one (node-postgres refuses a name with another text on a connection),
 * and no name is bumped by hand. The committed snapshots (`queries/<module>/*.sql`,
 * `npm run queries:generate`) show each name with its text.
 */
export function preparedName(label: string, sql: string): string {
  let byText = names.get(label);
  if (byText === undefined) names.set(label, (byText = new Map()));
  let name = byText.get(sql);
  if (name === undefined) {
    name = `${label}_${createHash('sha256').update(sql).digest('hex').slice(0, 12)}`;
    byText.set(sql, name);
  }
  return name;
}

/**
 * A statement sent as a named (prepared) statement: PostgreSQL parses and plans it once per
 * connection. Its name is `label` and a hash of its text (preparedName).
 */
export function queryPrepared<T>(manager: EntityManager, label: string, statement: SqlPart): Promise<T[]> {
  // TypeORM types query() for a text; node-postgres, underneath, also takes a {name, text} config.
  const config = { name: preparedName(label, statement.sql), text: statement.sql } as unknown as string;
  return manager.query(config, statement.params);
}

/** Statement texts of queryParts, by label: built once per process. */
const texts = new Map<string, string>();

/**
 * `withParts(parts, last)` as a named statement labelled `label` (its text built on first use; a
 * label stands for one shape of parts).
 */
export function queryParts<T>(manager: EntityManager, label: string, parts: NamedPart[], last: SqlPart): Promise<T[]> {
  let sql = texts.get(label);
  if (sql === undefined) {
    sql = withParts(parts, last).sql;
    texts.set(label, sql);
  }
  const params = parts.flatMap((p) => p.params).concat(last.params);
  return queryPrepared<T>(manager, label, { sql, params });
}

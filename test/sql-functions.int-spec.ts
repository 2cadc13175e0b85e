import path from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import {
  declaredName,
  functionFiles,
  type LiveFunction,
  liveFunctions,
  normaliseFunctionText,
} from '../src/database/server/sql-functions.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * Every live function of the migrated database has its source file, and the file says exactly what
 * the database runs: a function changed in a migration without its file, or a file edited without
 * `npm run migration:functions`, fails here.
 */
describe('SQL functions as source files', () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  let live: LiveFunction[];
  const files = functionFiles(ROOT);

  beforeAll(async () => {
    await db.connect();
    live = await liveFunctions(db);
  });
  afterAll(() => db.end());

  it('finds the engine: at least the credits take, hold and settle functions', () => {
    const names = live.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['credits_take_events', 'credits_hold', 'credits_settle']));
  });

  it('takes accounts by id: no credits_* engine function has a (kind, owner) parameter', () => {
    // docs/money.md "The account and its lock": the edge resolves an owner to its account id once;
    // an engine function that took a kind or an owner again would resolve it a second time.
    const engine = live.filter((f) => f.name.startsWith('credits_'));
    expect(engine.length).toBeGreaterThan(10);
    const offending = engine.flatMap((f) =>
      f.identity
        .slice(f.identity.indexOf('(') + 1, -1)
        .split(', ')
        .filter((arg) => /^p_\w*(kind|owner)\w* /.test(arg) || /^p_\w*account\w* (character varying|text)/.test(arg))
        .map((arg) => `${f.name}: ${arg}`),
    );
    expect(offending).toEqual([]);
    // and each one that names an account takes its id
    const withAccount = engine.filter((f) => /p_\w*account_ids? bigint/.test(f.identity)).map((f) => f.name);
    expect(withAccount).toEqual(
      expect.arrayContaining([
        'credits_grant',
        'credits_hold',
        'credits_rollover',
        'credits_settle',
        'credits_take_events',
      ]),
    );
  });

  it('has no overloaded function (a file names one function)', () => {
    const names = live.map((f) => f.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it('has a file for every live function and a live function for every file', () => {
    expect(files.map((f) => f.name).sort()).toEqual(live.map((f) => f.name).sort());
  });

  it('names each file after the function it creates', () => {
    for (const file of files) expect(declaredName(file.text), file.file).toBe(file.name);
  });

  it('holds in each file the text the database runs (white space aside)', () => {
    for (const fn of live) {
      const file = files.find((f) => f.name === fn.name);
      if (!file) continue; // reported by the test above
      expect(normaliseFunctionText(file.text), `${file.file} differs from the live ${fn.identity}`).toBe(
        normaliseFunctionText(fn.definition),
      );
    }
  });
});

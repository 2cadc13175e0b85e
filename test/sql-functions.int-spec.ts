import path from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import {
  declaredName,
  functionFiles,
  type LiveFunction,
  liveFunctions,
  normaliseFunctionText,
} from '../src/database/sql-functions.js';

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

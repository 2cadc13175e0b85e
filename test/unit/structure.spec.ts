import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { fileGraph, folderCycles, folderGraph, sqlBackEdges } from '../../scripts/folder-cycles.mjs';
import { sqlGraph } from '../../scripts/sql-references.mjs';
import { root, sourceFiles } from '../support/sources.js';

/**
 * The shape of src/ (docs/architecture.md "Layers"): no two folders import each other, directly or
 * round a longer path, no two files either (in one folder or across), and no file is over 400 lines (docs/development.md). `npm run cycles` prints the cycles
 * with the imports that make them.
 */

const MAX_LINES = 400;

/**
 * SQL references that still point back up the imports (each closes a cycle through SQL): none is
 * left, so a new one fails. A module above another hands it what it needs (a part or a check, by a
 * call down) instead of being read by it (docs/architecture.md "Folder imports").
 */
const SQL_BACK_EDGES_LEFT: string[] = [];

describe('structure of src/', () => {
  const graph = folderGraph(root);

  it('reads the imports between folders', () => {
    expect(graph.get('usage -> engine')).toEqual(
      expect.arrayContaining(['src/usage/batch/usage-batch.service.ts -> src/engine/credits.service.ts']),
    );
  });

  it('finds a cycle when there is one', () => {
    const edges = new Map([
      ['a -> b', ['src/a/x.ts -> src/b/y.ts']],
      ['b -> c', ['src/b/y.ts -> src/c/z.ts']],
      ['c -> a', ['src/c/z.ts -> src/a/x.ts']],
      ['c -> d', ['src/c/z.ts -> src/d/w.ts']],
    ]);
    expect(folderCycles(edges).map((c) => c.folders)).toEqual([['a', 'b', 'c']]);
    expect(folderCycles(edges, ['b -> c'])).toEqual([]);
  });

  it('has no import cycle between folders (npm run cycles shows them)', () => {
    const cycles = folderCycles(graph).map(
      ({ folders, edges }) => `${folders.join(', ')}:\n${edges.map((e) => `  ${e.edge} (${e.imports[0]})`).join('\n')}`,
    );
    expect(cycles).toEqual([]);
  });

  it('reads the imports between files, in one folder too', () => {
    expect(fileGraph(root).get('src/pricing/pricing-math.ts -> src/pricing/price-text.ts')).toBeDefined();
    expect(
      fileGraph(root).get('src/usage/batch/usage-batch.service.ts -> src/engine/credits.service.ts'),
    ).toBeDefined();
  });

  it('has no import cycle between files, in one folder or across (npm run cycles shows them)', () => {
    const cycles = folderCycles(fileGraph(root)).map(({ folders }) => folders.join(' <-> '));
    expect(cycles).toEqual([]);
  });

  it('reads the SQL references between folders: tables by entity, functions by sql/ file', () => {
    const sql = sqlGraph(root);
    expect(sql.get('usage -> accounts')).toEqual(
      expect.arrayContaining(['src/usage/sql/usage_events_unclaimed.sql -> user_accounts']),
    );
    expect(sql.get('engine -> accounts')).toEqual(
      expect.arrayContaining(['src/engine/credit-accounts.repository.ts -> accounts']),
    );
  });

  it('has no SQL reference back up the imports but those still listed (npm run cycles shows them)', () => {
    expect(sqlBackEdges(root).map((b) => b.edge)).toEqual(SQL_BACK_EDGES_LEFT);
  });

  it(`has no file over ${MAX_LINES} lines`, () => {
    const long = sourceFiles('src', () => true)
      .map((file) => ({ file, lines: readFileSync(path.join(root, file), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});

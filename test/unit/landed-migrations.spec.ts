import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { isLanded, landed, sha256Of } from '../../scripts/landed-migrations.mjs';
import { root } from '../support/sources.js';

/**
 * A landed migration is history (docs/development.md "Migrations are history"): a database migrated
 * before an edit and one migrated after would differ, so each listed file must keep its bytes. A
 * change goes into a new migration, appended to the list by `npm run migrations:landed`.
 */

const dir = path.join(root, 'migrations');
const manifest = readFileSync(path.join(dir, 'landed.sha256'), 'utf8');

describe('landed migrations', () => {
  const entries = landed(manifest);

  it('reads the list as sha256sum writes it', () => {
    expect(landed(`${'a'.repeat(64)}  1-x.ts\n`)).toEqual([{ hash: 'a'.repeat(64), file: '1-x.ts' }]);
    expect(() => landed(`${'a'.repeat(63)}  1-x.ts\n`)).toThrow(/not "<sha256> {2}<file>"/);
    expect(entries.length).toBeGreaterThan(130);
    expect(new Set(entries.map((e) => e.file)).size).toBe(entries.length);
  });

  it('keeps every listed migration byte for byte', () => {
    const changed = entries.filter(({ hash, file }) => {
      try {
        return sha256Of(file) !== hash;
      } catch {
        return true;
      }
    });
    expect(changed.map((e) => e.file)).toEqual([]);
  });

  it('lists every migration', () => {
    const listed = new Set(entries.map((e) => e.file));
    const unlisted = readdirSync(dir).filter((file) => isLanded(file) && !listed.has(file));
    expect(unlisted, 'npm run migrations:landed appends them').toEqual([]);
  });
});

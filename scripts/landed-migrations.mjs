#!/usr/bin/env node
// Appends the SHA-256 of each migration not yet in migrations/landed.sha256 (npm run migrations:landed).
// It never rewrites a line: a listed migration has landed, and test/unit/landed-migrations.spec.ts fails
// when its bytes change. The file reads like sha256sum's output, so `sha256sum -c landed.sha256` in
// migrations/ checks it too.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../migrations', import.meta.url));
const manifest = path.join(dir, 'landed.sha256');

/** What a migration run executes: each timestamped migration and a helper they import; index.ts only lists them. */
export const isLanded = (file) => file.endsWith('.ts') && file !== 'index.ts';

export const sha256Of = (file) =>
  createHash('sha256')
    .update(readFileSync(path.join(dir, file)))
    .digest('hex');

/** The manifest's entries, in its order: `{ hash, file }`. */
export function landed(text) {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
      if (!m) throw new Error(`migrations/landed.sha256: not "<sha256>  <file>": ${line}`);
      return { hash: m[1], file: m[2] };
    });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const listed = new Set(landed(existsSync(manifest) ? readFileSync(manifest, 'utf8') : '').map((e) => e.file));
  const added = readdirSync(dir)
    .filter((file) => isLanded(file) && !listed.has(file))
    .sort();
  if (added.length) appendFileSync(manifest, added.map((file) => `${sha256Of(file)}  ${file}\n`).join(''));
  console.log(added.length ? `appended ${added.join(', ')}` : 'every migration is listed');
}

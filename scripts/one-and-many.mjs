#!/usr/bin/env node
// The places where one and many are two programs (docs/architecture.md "How the structure is
// counted"), one a line:
// - a SQL function `x` of src/<module>/sql/ beside `x_many` or `xs` whose text does not call it: the
//   one written apart from the many (a single call is a batch of one through the many);
// - a TypeScript file with a method `x(` beside `xMany(` where nothing in the file calls
//   `this.xMany(`: the same, in TypeScript;
// - a fork for the one case inside a SQL function (`n = 1`, `cardinality(a) = 1`,
//   `array_length(a, 1) = 1`, `count(*) = 1`): steps a batch of one takes apart from the batch's.
// Prints nothing when one and many are one program everywhere.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function filesUnder(dir, keep) {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(rel, keep);
    return keep(rel) ? [rel] : [];
  });
}

const read = (file) => readFileSync(path.join(ROOT, file), 'utf8');
/** A SQL text without its `--` comments: a comment naming the many is no call of it. */
const sqlCode = (text) => text.replace(/--.*$/gm, '');

const lines = [];

const sqlFiles = filesUnder('src', (f) => /\/sql\/[a-z0-9_]+\.sql$/.test(f));
const byName = new Map(sqlFiles.map((f) => [path.posix.basename(f, '.sql'), f]));
for (const [name, file] of byName) {
  for (const many of [`${name}_many`, `${name}s`]) {
    if (!byName.has(many)) continue;
    if (new RegExp(`\\b${many}\\s*\\(`).test(sqlCode(read(file)))) continue;
    lines.push(`${file} beside ${byName.get(many)}: ${name}() does not call ${many}()`);
  }
}

const FORK = /\bn = 1\b|cardinality\([a-z_]+\) = 1|array_length\([a-z_]+, *1\) = 1|count\(\*\) = 1/g;
for (const file of sqlFiles)
  for (const [i, line] of read(file).split('\n').entries())
    for (const match of sqlCode(line).matchAll(FORK)) lines.push(`${file}:${i + 1}: a fork for one: ${match[0]}`);

const METHOD =
  /^ {2}(?:(?:public|private|protected|static|async|readonly) )*([a-z][A-Za-z0-9]*)Many\s*(?:<[^>]*>)?\(/gm;
for (const file of filesUnder('src', (f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
  const text = read(file);
  for (const [, name] of text.matchAll(METHOD)) {
    const one = new RegExp(
      `^ {2}(?:(?:public|private|protected|static|async|readonly) )*${name}\\s*(?:<[^>]*>)?\\(`,
      'm',
    );
    if (!one.test(text)) continue;
    // The one calls the many of its own class: one program.
    if (new RegExp(`\\bthis\\.${name}Many\\s*(?:<[^>]*>)?\\(`).test(text)) continue;
    lines.push(`${file}: ${name}() beside ${name}Many(), which it does not call`);
  }
}

for (const line of lines) console.log(line);

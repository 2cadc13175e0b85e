#!/usr/bin/env node
// npm run migration:functions [-- <name>]: turns the edited src/<module>/sql/<function>.sql files into a
// new migration that embeds each changed function's full text (up) and its previous text (down).
// It migrates a scratch database (TEST_DATABASE_URL's server, else an embedded PostgreSQL), compares
// every live function with its file, applies the generated statements there, and rewrites each changed
// file as PostgreSQL prints the function, so the drift test (test/sql-functions.int-spec.ts) holds.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { createScratchDatabase } from '../dist/src/database/server/scratch-database.js';
import {
  declaredName,
  fileText,
  functionFiles,
  liveFunctions,
  normaliseFunctionText,
  signature,
} from '../dist/src/database/server/sql-functions.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const slug = (process.argv[2] ?? 'functions')
  .toLowerCase()
  .replace(/[^a-z0-9]+/g, '-')
  .replace(/^-|-$/g, '');
if (!slug) throw new Error('Give the migration a name of letters and digits');

const files = functionFiles(ROOT);
for (const file of files) {
  if (declaredName(file.text) !== file.name) {
    throw new Error(`${file.file} must create the function ${file.name} (its header names ${declaredName(file.text)})`);
  }
}

const scratch = await createScratchDatabase({ serverUrl: process.env.TEST_DATABASE_URL });
const client = new pg.Client({ connectionString: scratch.databaseUrl });
try {
  await client.connect();
  const live = await liveFunctions(client);
  const overloaded = live.filter((f, i) => live.findIndex((g) => g.name === f.name) !== i);
  if (overloaded.length > 0) throw new Error(`Overloaded functions cannot have one file each: ${overloaded[0].name}`);
  const liveByName = new Map(live.map((f) => [f.name, f]));

  const up = [];
  const down = [];
  const changed = [];
  for (const file of files) {
    const old = liveByName.get(file.name);
    if (old && normaliseFunctionText(old.definition) === normaliseFunctionText(file.text)) continue;
    changed.push(file);
    if (!old) {
      up.push({ sql: file.text, name: file.name });
      down.push({ drop: file.name });
    } else {
      const dropFirst = signature(old.definition) !== signature(file.text);
      up.push({ sql: file.text, name: file.name, dropFirst: dropFirst ? old.identity : undefined });
      down.push({ sql: old.definition, name: file.name, dropFirst: dropFirst ? file.name : undefined });
    }
  }
  const removed = live.filter((f) => !files.some((file) => file.name === f.name));
  for (const fn of removed) {
    up.push({ dropIdentity: fn.identity });
    down.push({ sql: fn.definition, name: fn.name });
  }
  if (up.length === 0) {
    console.log('Every function matches its file: no migration written.');
  } else {
    // Apply the new texts to the scratch database: a file that does not compile stops here, and what
    // PostgreSQL prints for each function becomes both the migration's text and the file.
    await client.query('BEGIN');
    for (const step of up) if (step.dropIdentity) await client.query(`DROP FUNCTION ${step.dropIdentity}`);
    // A LANGUAGE sql function's body is checked when it is created, so a new function another new
    // one calls must come first: each round applies what it can, and the migration keeps that order.
    let pending = up.filter((step) => !step.dropIdentity);
    const ordered = up.filter((step) => step.dropIdentity);
    while (pending.length > 0) {
      const failed = [];
      let lastError;
      for (const step of pending) {
        await client.query('SAVEPOINT step');
        try {
          if (step.dropFirst) await client.query(`DROP FUNCTION ${step.dropFirst}`);
          await client.query(step.sql);
          await client.query('RELEASE SAVEPOINT step');
          ordered.push(step);
        } catch (error) {
          if (error.code !== '42883') throw error;
          await client.query('ROLLBACK TO SAVEPOINT step');
          failed.push(step);
          lastError = error;
        }
      }
      if (failed.length === pending.length) throw lastError;
      pending = failed;
    }
    up.splice(0, up.length, ...ordered);
    const applied = new Map((await liveFunctions(client)).map((f) => [f.name, f]));
    await client.query('ROLLBACK');
    for (const step of up) if (step.sql) step.sql = applied.get(step.name).definition;
    for (const file of changed) writeFileSync(path.join(ROOT, file.file), fileText(applied.get(file.name).definition));
    // down: identities of the new functions, for the DROP of a created or re-signed one.
    for (const step of down) {
      if (step.drop) step.dropIdentity = applied.get(step.drop).identity;
      if (step.dropFirst) step.dropFirst = applied.get(step.dropFirst).identity;
    }
    const written = writeMigration(slug, up, [...down].reverse());
    console.log(
      `Wrote ${written} (${changed
        .map((f) => f.name)
        .concat(removed.map((f) => `-${f.name}`))
        .join(', ')}).`,
    );
    console.log('Run `npm run format` and the tests; commit the migration with the files.');
  }
} finally {
  await client.end().catch(() => undefined);
  await scratch.drop();
}

/** The statements of one direction as the body of an async migration method. */
function statements(steps) {
  const literal = (sql) => '`' + sql.replaceAll('\\', '\\\\').replaceAll('`', '\\`').replaceAll('${', '\\${') + '`';
  const lines = [];
  for (const step of steps) {
    if (step.dropIdentity) lines.push(`    await q.query(${literal(`DROP FUNCTION ${step.dropIdentity}`)});`);
    if (step.dropFirst) lines.push(`    await q.query(${literal(`DROP FUNCTION ${step.dropFirst}`)});`);
    if (step.sql) lines.push(`    await q.query(${literal(step.sql.trimEnd().replace(/;$/, ''))});`);
  }
  return lines.join('\n');
}

function writeMigration(name, up, down) {
  const dir = path.join(ROOT, 'migrations');
  const stamps = readdirSync(dir)
    .map((f) => /^(\d{13})-/.exec(f)?.[1])
    .filter(Boolean)
    .map(Number);
  // MIGRATION_STAMP picks the number when branches worked side by side and must not collide.
  const stamp = process.env.MIGRATION_STAMP ? Number(process.env.MIGRATION_STAMP) : Math.max(...stamps) + 1000;
  if (!Number.isSafeInteger(stamp) || stamps.includes(stamp))
    throw new Error(`Migration stamp ${stamp} is taken or invalid`);
  const className = name.replace(/(^|-)([a-z0-9])/g, (_, __, c) => c.toUpperCase()) + stamp;
  const fileName = `${stamp}-${name}.ts`;
  const source = `import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Generated by \`npm run migration:functions\` from the src/<module>/sql/ files: each function's full
 * text as it is from this migration on (up) and as it was before (down). Never edit; change the file
 * and generate another.
 */
export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(q: QueryRunner): Promise<void> {
${statements(up)}
  }

  async down(q: QueryRunner): Promise<void> {
${statements(down)}
  }
}
`;
  writeFileSync(path.join(dir, fileName), source);
  const indexPath = path.join(dir, 'index.ts');
  const index = readFileSync(indexPath, 'utf8')
    .replace(
      /';\n\n\/\*\* Every migration/,
      `';\nimport { ${className} } from './${fileName.replace(/\.ts$/, '.js')}';\n\n/** Every migration`,
    )
    .replace(/\n\];\s*$/, `\n  ${className},\n];\n`);
  writeFileSync(indexPath, index);
  return path.join('migrations', fileName);
}

#!/usr/bin/env node
// The tables naming a payer without a tie (docs/architecture.md "How the structure is counted"): a
// table with an `account_id` column (not the account's own generated key, `accounts.account_id`)
// beside an owner column (`user_id`, `org_id`) that no foreign key to `Account` ties to it: none of
// the entity's `@ForeignKey(() => Account, [properties], …)` names both the account id's property
// and that owner's. Read from the entities, which test/schema-drift.e2e-spec.ts holds to the migrated
// schema. Prints one line a table, `<table>: <owner columns left untied>`; a root to read may be
// given (`node scripts/payer-ties.mjs [root]`).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = process.argv[2] ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function entities(dir) {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return entities(rel);
    return entry.name.endsWith('.entity.ts') ? [rel] : [];
  });
}

/** A column's decorator (`@Column`, `@PrimaryColumn`…) and the property it declares, by column name. */
function columns(text) {
  const found = new Map();
  const args = String.raw`(?:[^()]|\([^()]*\))*`;
  const between = String.raw`(?:(?:@\w+\(${args}\)|\/\*[\s\S]*?\*\/|\/\/[^\n]*)\s*)*`;
  const column = new RegExp(
    String.raw`@(\w+)\(${args}?name: '(account_id|user_id|org_id)'${args}\)\s*${between}(\w+)[!?]?:`,
    'g',
  );
  for (const m of text.matchAll(column)) found.set(m[2], { decorator: m[1], property: m[3] });
  return found;
}

for (const file of entities('src')) {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const table = /@Entity\(\{ name: '([a-z_0-9]+)'/.exec(text)?.[1];
  const cols = columns(text);
  const account = cols.get('account_id');
  if (!table || !account || account.decorator === 'PrimaryGeneratedColumn') continue;
  const ties = [...text.matchAll(/@ForeignKey\(\s*\(\) => Account,\s*\[([^\]]*)\]/g)].map((m) =>
    [...m[1].matchAll(/'(\w+)'/g)].map((p) => p[1]),
  );
  const untied = ['user_id', 'org_id'].filter(
    (owner) =>
      cols.has(owner) && !ties.some((tie) => tie.includes(account.property) && tie.includes(cols.get(owner).property)),
  );
  if (untied.length > 0) console.log(`${table}: ${untied.join(', ')}`);
}

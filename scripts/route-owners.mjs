#!/usr/bin/env node
// The route prefixes served by a module that does not own them (docs/architecture.md "How the
// structure is counted"): a prefix `/api/<x>/…` is owned by the folder src/<x>/ when there is one; a
// controller of another folder serving it (by its `@Controller()` path or, under a bare
// `@Controller('api')`, by a method's path: `@Get()`… and `@IdempotentPost()`) prints one line, `<file>: /api/<x> (owner src/<x>/)`.
// Prefixes that name no folder (`/api/entitlements`, `/api/payments`) are not counted.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function controllers(dir) {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return controllers(rel);
    return entry.name.endsWith('.controller.ts') ? [rel] : [];
  });
}

const CONTROLLER = /@Controller\(\s*'([^']*)'/;
const ROUTE = /@(?:Get|Post|Put|Patch|Delete|IdempotentPost)\(\s*'([^']*)'/g;

for (const file of controllers('src')) {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const base = CONTROLLER.exec(text)?.[1];
  if (base === undefined || !/^api(\/|$)/.test(base)) continue;
  const paths = base === 'api' ? [...text.matchAll(ROUTE)].map((m) => `api/${m[1]}`) : [base];
  const prefixes = new Set(paths.map((p) => p.split('/')[1]).filter(Boolean));
  const folder = file.split('/')[1];
  for (const prefix of [...prefixes].sort()) {
    const owner = path.join(ROOT, 'src', prefix);
    if (prefix === folder || !existsSync(owner) || !statSync(owner).isDirectory()) continue;
    console.log(`${file}: /api/${prefix} (owner src/${prefix}/)`);
  }
}

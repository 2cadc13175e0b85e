#!/usr/bin/env node
// The check `npm start` runs before it builds: the configuration, the port, the data directory or the
// database, exactly as the service checks them at its start (src/preflight.ts, run here from its
// TypeScript sources), so that a start that cannot work says why in a second instead of after 20 s
// of building. Prints the one reason and exits 1, or exits 0 silently.
import { existsSync, readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

import { transformSync } from '@swc/core';

registerHooks({
  // The sources import each other as `./x.js` (what tsc emits): the `.ts` beside it.
  resolve(specifier, context, nextResolve) {
    if (context.parentURL?.endsWith('.ts') && /^\.\.?\/.*\.js$/.test(specifier)) {
      const source = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (existsSync(source)) return { url: source.href, format: 'module', shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
    const filename = fileURLToPath(url);
    const { code } = transformSync(readFileSync(filename, 'utf8'), {
      filename,
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'es6' },
    });
    return { format: 'module', source: code, shortCircuit: true };
  },
});

try {
  const { preflight } = await import('../src/preflight.ts');
  const problem = await preflight(process.env);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
} catch (error) {
  process.stderr.write(`Start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { root, sourceFiles } from '../support/sources.js';

/**
 * The ground floor imports nothing above it: `src/config/`, `src/common/` and `src/database/` are
 * what every feature builds on, so none of them may import a feature module (credits, usage, auth…)
 * or the composition root (`app.module.ts`, `entities.ts`, `openapi-export.ts`). A need that only a
 * feature can fill is named below and filled from above (an injection token, an argument).
 */
const GROUND_FLOOR = ['src/config', 'src/common', 'src/database'];

function relativeImports(file: string): { line: number; target: string }[] {
  return readFileSync(path.join(root, file), 'utf8')
    .split('\n')
    .map((text, i) => ({ line: i + 1, match: /^\s*(?:import|export)\b[^'"]*['"](\.{1,2}\/[^'"]+)['"]/.exec(text) }))
    .filter((l) => l.match !== null)
    .map((l) => ({ line: l.line, target: path.normalize(path.join(path.dirname(file), l.match![1])) }));
}

describe('layering', () => {
  const files = GROUND_FLOOR.flatMap((dir) =>
    sourceFiles(dir, (name) => name.endsWith('.ts') && !name.endsWith('.spec.ts')),
  );

  it('finds the ground floor', () => {
    expect(files).toEqual(
      expect.arrayContaining(['src/common/errors/domain-error.ts', 'src/database/transactions.ts']),
    );
  });

  it('src/config, src/common and src/database import no feature and not the root', () => {
    const upward = files.flatMap((file) =>
      relativeImports(file)
        .filter(
          ({ target }) =>
            !GROUND_FLOOR.some((dir) => target.startsWith(`${dir}/`)) && !target.startsWith('migrations/'),
        )
        .map(({ line, target }) => `${file}:${line} imports ${target}`),
    );
    expect(upward).toEqual([]);
  });
});

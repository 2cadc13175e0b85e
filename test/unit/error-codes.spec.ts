import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { DOMAIN_ERROR_STATUS } from '../../src/common/errors/domain-error.js';
import { root, sourceFiles } from '../support/sources.js';

/**
 * docs/errors.md "Domain error codes" and the code agree: every code the code can throw
 * (DOMAIN_ERROR_STATUS, the type of every DomainError's code) is documented with its status, and
 * every documented code exists and is thrown somewhere.
 */
function documentedCodes(): Record<string, number> {
  const doc = readFileSync(path.join(root, 'docs/errors.md'), 'utf8');
  const section = doc.slice(
    doc.indexOf('## Domain error codes'),
    doc.indexOf('\n## ', doc.indexOf('## Domain error codes') + 1),
  );
  return Object.fromEntries(
    [...section.matchAll(/^- `([A-Z_]+)` → \*\*(\d{3})\*\*/gm)].map((m) => [m[1], Number(m[2])]),
  );
}

describe('docs/errors.md and the error codes', () => {
  const documented = documentedCodes();

  it('reads the documented codes', () => {
    expect(documented.INSUFFICIENT_CREDITS).toBe(402);
  });

  it('documents every code, with its status, and nothing else', () => {
    expect(documented).toEqual({ ...DOMAIN_ERROR_STATUS });
  });

  it('every code is thrown somewhere (a code nothing throws is a stale one)', () => {
    const code = sourceFiles('src', (name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'))
      .map((file) => readFileSync(path.join(root, file), 'utf8'))
      .join('\n');
    const unused = Object.keys(DOMAIN_ERROR_STATUS).filter((c) => !code.includes(`'${c}'`));
    expect(unused).toEqual([]);
  });
});

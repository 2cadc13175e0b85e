import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { root } from '../support/sources.js';

/**
 * docs/architecture.md "How the structure is counted" true to the code: every command of the section
 * prints the number written under it (`# prints N`).
 */
const doc = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
const start = doc.indexOf('## How the structure is counted');
const end = doc.indexOf('\n## ', start + 1);
const section = doc.slice(start, end === -1 ? undefined : end);
const counts = [...section.matchAll(/```sh\n([\s\S]*?)\n# prints (\d+)\n```/g)].map((m) => ({
  command: m[1],
  expected: m[2],
}));

describe('docs/architecture.md: how the structure is counted', () => {
  it('has the twenty-three counts', () => {
    expect(start).toBeGreaterThan(0);
    expect(counts).toHaveLength(23);
  });

  for (const { command, expected } of counts) {
    it(`prints ${expected}: ${command.slice(0, 60)}…`, () => {
      const printed = execFileSync('bash', ['-o', 'pipefail', '-c', command], { cwd: root, encoding: 'utf8' });
      expect(printed.trim()).toBe(expected);
    });
  }
});

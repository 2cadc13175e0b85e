import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { root, sourceFiles } from '../support/sources.js';

/**
 * docs/architecture.md true to the code where it lists things: every folder of src/ is described
 * (as `src/<folder>/`), every file of the composition root is named, and the jobs table names exactly
 * the jobs the code runs (MetricsService.runJob).
 */
const doc = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');

describe('docs/architecture.md', () => {
  it('describes every folder of src/', () => {
    const folders = readdirSync(path.join(root, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `src/${e.name}/`);
    expect(folders).toContain('src/credits/');
    expect(folders.filter((folder) => !doc.includes(`\`${folder}\``))).toEqual([]);
  });

  it('names every file of the composition root (directly in src/)', () => {
    const files = readdirSync(path.join(root, 'src'), { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts'))
      .map((e) => e.name);
    expect(files).toContain('app.module.ts');
    expect(files.filter((file) => !doc.includes(`\`${file}\``))).toEqual([]);
  });

  it('lists exactly the jobs the code runs', () => {
    const code = sourceFiles('src', (name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'))
      .map((file) => readFileSync(path.join(root, file), 'utf8'))
      .join('\n');
    // A job names itself to runJob() directly, or as an hourly cleanup (HourlyCleanupJob() runs it).
    const run = [...code.matchAll(/(?:runJob\(\s*|HourlyCleanupJob\(\{\s*name:\s*)'([a-z-]+)'/g)]
      .map((m) => m[1])
      .sort();
    const jobs = doc.slice(doc.indexOf('## Jobs'), doc.indexOf('\n## ', doc.indexOf('## Jobs') + 1));
    const listed = [...jobs.matchAll(/^\| `([a-z-]+)`/gm)].map((m) => m[1]).sort();
    expect(run).toContain('credits-expiry');
    expect(listed).toEqual(run);
  });
});

import { describe, expect, it } from 'vitest';

import { linesMatching, sourceFiles } from '../support/sources.js';

/**
 * Services, jobs, workers, repositories and controllers read the time through the injected `Clock`
 * (`CLOCK`, src/common/clock.ts), never `Date.now()` or `new Date()`, so a test sets the time instead
 * of waiting for it (test/clock-reads.e2e-spec.ts). Two reads are of the wall clock on purpose.
 */
const WALL_CLOCK: Record<string, string> = {
  // Prometheus compares a job's last success with its own time(): the gauge must be wall time.
  'src/metrics/metrics.service.ts': 'jobLastSuccess',
  // Health answers when it was asked, for an operator comparing logs.
  'src/health/health.controller.ts': 'timestamp',
};

describe('clock reads', () => {
  const files = sourceFiles('src', (name) => /\.(service|job|worker|repository|controller)\.ts$/.test(name));
  const reads = linesMatching(files, /Date\.now\(\)|new Date\(\)/);

  it('looks at the files where time drives behaviour', () => {
    expect(files).toEqual(
      expect.arrayContaining(['src/purchases/purchases.service.ts', 'src/plans/subscription-renewal.job.ts']),
    );
    expect(reads.map((r) => r.file)).toEqual(expect.arrayContaining(Object.keys(WALL_CLOCK)));
  });

  it('go through Clock, apart from the wall-clock reads named here', () => {
    const stray = reads.filter(({ file, text }) => !(WALL_CLOCK[file] && text.includes(WALL_CLOCK[file])));
    expect(stray.map(({ file, line, text }) => `${file}:${line}: ${text}`)).toEqual([]);
  });
});

import { availableParallelism, loadavg } from 'node:os';

import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/**
 * Prints the plain closing line CI reads: "tests: N passed, N failed, N skipped". Besides failed
 * tests, a file or suite that failed on its own (a failing beforeAll/afterAll, an import error) and
 * every unhandled error count as one failure each, so the line never says "0 failed" for a red run.
 * Before it, the slowest spec files with their time in tests and hooks, and the run's whole time (from
 * vitest's start, the global setup's migrations and the builds included) with the machine's load.
 */
/** How many of the slowest spec files the summary lists. */
const SLOWEST = 15;

export default class SummaryReporter implements Reporter {
  private readonly started = performance.now();

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      let failedTests = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedTests++;
        else skipped++;
      }
      failed += failedTests;
      const failedSuites = [...module.children.allSuites()].filter(
        (s) => s.state() === 'failed' && s.errors().length > 0,
      ).length;
      const moduleErrors = module.errors().length > 0 ? 1 : 0;
      // Hook failures leave their tests passed (or skipped): count them as failures of their own.
      if (module.state() === 'failed') failed += Math.max(failedSuites + moduleErrors, failedTests === 0 ? 1 : 0);
    }
    failed += unhandledErrors.length;
    // The files that take the run's time (tests and hooks), so the run can be kept short.
    const slowest = [...testModules]
      .map((module) => ({ file: module.relativeModuleId, seconds: module.diagnostic().duration / 1000 }))
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, SLOWEST);
    if (slowest.length > 0) {
      process.stdout.write(`\nslowest files:\n`);
      for (const { file, seconds } of slowest) process.stdout.write(`  ${seconds.toFixed(1).padStart(7)} s  ${file}\n`);
    }
    const seconds = Math.round((performance.now() - this.started) / 1000);
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    process.stdout.write(
      `\ntime: ${Math.floor(seconds / 60)} min ${seconds % 60} s for ${testModules.length} files ` +
        `on ${availableParallelism()} cores (load average ${load})\n`,
    );
    process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}

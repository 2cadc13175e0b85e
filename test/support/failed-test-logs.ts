import { beforeEach } from 'vitest';

/** The log lines of every app a spec has started and not yet closed (test/support/app.ts). */
export const openAppLogs = new Set<string[]>();

/** A JSON log line at pino's error level or above (50: error, 60: fatal). */
const isError = (line: string) => /"level":(50|60)\b/.test(line);

/**
 * When a test fails, what went wrong inside its apps: the error lines they logged while it ran (a
 * 500's cause, with its stack), printed after the failure. A flaky failure seen once in a whole run
 * then says why, where the test's assertion says only which status came back.
 */
beforeEach(({ onTestFailed, task }) => {
  const from = new Map([...openAppLogs].map((logs) => [logs, logs.length]));
  onTestFailed(() => {
    const errors = [...openAppLogs].flatMap((logs) => logs.slice(from.get(logs) ?? 0).filter(isError));
    if (errors.length === 0) return;
    process.stderr.write(`\nThe apps' error log during "${task.name}":\n${errors.join('\n')}\n`);
  });
});

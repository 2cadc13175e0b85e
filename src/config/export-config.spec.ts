import { describe, expect, it } from 'vitest';

import { buildAppConfig, ConfigValidationError } from './app-config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    buildAppConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('EXPORT_FILE_MODE', () => {
  it('is 0600 by default and 0640 when it says so', () => {
    expect(buildAppConfig({}).parquetExports.fileMode).toBe(0o600);
    expect(buildAppConfig({ EXPORT_FILE_MODE: '0600' }).parquetExports.fileMode).toBe(0o600);
    expect(buildAppConfig({ EXPORT_FILE_MODE: '0640' }).parquetExports.fileMode).toBe(0o640);
  });

  // World-readable, unreadable by its owner, or not written as the two modes are: start-up stops.
  it.each(['0644', '0666', '0000', '600', '0o600'])('refuses %j, naming the variable', (value) => {
    const problems = problemsOf({ EXPORT_FILE_MODE: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^EXPORT_FILE_MODE must be one of 0600, 0640/);
  });
});

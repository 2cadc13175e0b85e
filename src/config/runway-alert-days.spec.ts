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

describe('RUNWAY_ALERT_DAYS', () => {
  it('is 7,3,1 by default; a list is deduplicated and sorted longest first; empty turns the alerts off', () => {
    expect(buildAppConfig({}).credits.runwayAlertDays).toEqual([7, 3, 1]);
    expect(buildAppConfig({ RUNWAY_ALERT_DAYS: ' 2, 14,2 ' }).credits.runwayAlertDays).toEqual([14, 2]);
    expect(buildAppConfig({ RUNWAY_ALERT_DAYS: '' }).credits.runwayAlertDays).toEqual([]);
  });

  // Zero, negative, fractional, past the projection's year, words, or more than 10: start-up stops.
  it.each(['0', '-1', '1.5', '366', '7,x', '7,,1', '1,2,3,4,5,6,7,8,9,10,11'])(
    'refuses %j, naming the variable',
    (value) => {
      const problems = problemsOf({ RUNWAY_ALERT_DAYS: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^RUNWAY_ALERT_DAYS must be up to 10 comma-separated whole days/);
    },
  );
});

describe('RUNWAY_ALERT_INTERVAL_SECONDS', () => {
  it('is 3600 by default and takes whole seconds from 60 to 86400', () => {
    expect(buildAppConfig({}).credits.runwayAlertIntervalSeconds).toBe(3600);
    expect(buildAppConfig({ RUNWAY_ALERT_INTERVAL_SECONDS: '60' }).credits.runwayAlertIntervalSeconds).toBe(60);
    expect(buildAppConfig({ RUNWAY_ALERT_INTERVAL_SECONDS: '86400' }).credits.runwayAlertIntervalSeconds).toBe(86_400);
  });

  it.each(['0', '59', '86401', '1.5', '-60', 'hourly'])('refuses %j, naming the variable', (value) => {
    const problems = problemsOf({ RUNWAY_ALERT_INTERVAL_SECONDS: value });
    expect(problems).toEqual([
      `RUNWAY_ALERT_INTERVAL_SECONDS must be an integer between 60 and 86400 (got "${value}")`,
    ]);
  });
});
